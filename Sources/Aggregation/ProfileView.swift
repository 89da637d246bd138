/// How the user wants frames shown, as one transform every command applies
/// to a profile before writing it in any format: `record`, `report`,
/// `convert`, `diff`. What it changes merges: frames that become equal
/// (one function's lines without `lines`) become one frame, and stacks
/// that become equal one stack, their values added.
public struct ProfileView: Sendable, Equatable {
    /// Python file names whole, as the code object has them, instead of
    /// relative to their `sys.path` root (`PythonFileNames`).
    public var fullFileNames = false
    /// Python frames per line; without, one frame per function.
    public var lines = true
    /// Keep CPython's own frames between Python frames (`InterpreterGlue`).
    public var interpreterFrames = false

    public init(fullFileNames: Bool = false, lines: Bool = true, interpreterFrames: Bool = false) {
        self.fullFileNames = fullFileNames
        self.lines = lines
        self.interpreterFrames = interpreterFrames
    }

    /// The profile as the raw model has it: nothing changed.
    public static let unchanged = ProfileView(fullFileNames: true, lines: true, interpreterFrames: true)

    /// The profile seen through this view: same sample types, totals,
    /// recording and timeline (its stacks renumbered).
    public func apply(to profile: Profile) -> Profile {
        if self == .unchanged { return profile }
        let names = fullFileNames ? nil : PythonFileNames(learningFrom: profile)
        // Each distinct frame is judged, renamed and interned once, on first
        // use; a stack then costs its integer ids (a recording's stop
        // must not hash every frame of every stack again).
        var shownIndex = [Int32?](repeating: nil, count: profile.frames.count)
        let isPython = profile.frames.map { $0.kind == .python }
        let isGlue = interpreterFrames ? [] : profile.frames.map(InterpreterGlue.isInterpreterCode)
        var result = Profile(sampleTypes: profile.sampleTypes, defaultSampleType: profile.defaultSampleType)
        result.recording = profile.recording
        var newIndex: [Int?] = []
        newIndex.reserveCapacity(profile.stacks.count)
        var key: [Int32] = []
        for stack in profile.stacks {
            guard !stack.frames.isEmpty, stack.values.contains(where: { $0 > 0 }) else {
                newIndex.append(nil)
                continue
            }
            key.removeAll(keepingCapacity: true)
            // Glue: the interpreter's native frames strictly between the
            // outermost and the innermost Python frame (InterpreterGlue).
            let outer = interpreterFrames ? nil : stack.frames.firstIndex { isPython[Int($0)] }
            let inner = interpreterFrames ? nil : stack.frames.lastIndex { isPython[Int($0)] }
            for (position, old) in stack.frames.enumerated() {
                let frame = Int(old)
                if let outer, let inner, position > outer, position < inner, isGlue[frame] { continue }
                if shownIndex[frame] == nil { shownIndex[frame] = result.intern(shown(profile.frames[frame], names: names)) }
                key.append(shownIndex[frame]!)
            }
            newIndex.append(result.add(frameIndices: key, values: stack.values))
        }
        for sample in profile.timeline ?? [] {
            guard let stack = newIndex[sample.stack] else { continue }
            result.appendTimeline(Profile.TimedSample(stack: stack, timestampNanoseconds: sample.timestampNanoseconds,
                                                      cpu: sample.cpu, values: sample.values))
        }
        return result
    }

    /// The frame as this view shows it; `names` is nil with `fullFileNames`.
    public func shown(_ frame: Frame, names: PythonFileNames?) -> Frame {
        guard frame.kind == .python else { return frame }
        var frame = frame
        if let names, let file = frame.file { frame.file = names.shortened(file) }
        if !lines { frame.line = nil }
        return frame
    }
}
