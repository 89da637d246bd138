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
        var result = Profile(sampleTypes: profile.sampleTypes, defaultSampleType: profile.defaultSampleType)
        result.recording = profile.recording
        var shown = ShownFrames(view: self, names: fullFileNames ? nil : PythonFileNames(learningFrom: profile))
        var part = ViewedPart(valuesPerStack: profile.sampleTypes.count)
        for frame in profile.frames { part.appendFrame(frame, shownBy: &shown) }
        for stack in profile.stacks { part.appendStack(stack.frames, values: stack.values) }
        var viewer = ProfileViewer(view: self, into: result)
        let newIndex = viewer.add(part)
        result = viewer.profile
        for sample in profile.timeline ?? [] {
            let stack = newIndex[sample.stack]
            guard stack >= 0 else { continue }
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
