/// Adds raw frames and stacks to a profile as a `ProfileView` shows them:
/// what `ProfileView.apply` does to one profile, fed part by part, so a
/// profile read back in chunks (`ProfileArchive`) is seen and merged in one
/// pass without a raw copy of each chunk. Each distinct frame of a part is
/// judged, renamed and interned once, on first use; a stack then costs its
/// integer ids.
public struct ProfileViewer {
    public private(set) var profile: Profile
    private let view: ProfileView
    private var shownFrames: ShownFrames
    /// The current part's frames, by their index in the part.
    private var frames: [Frame] = []
    private var shownIndex: [Int32] = []
    private var isPython: [Bool] = []
    private var isGlue: [Bool] = []
    private var key: [Int32] = []

    /// `names`: the script directories the file names are shortened by
    /// (nil with `fullFileNames`).
    public init(view: ProfileView, names: PythonFileNames?, into profile: Profile) {
        self.view = view
        shownFrames = ShownFrames(view: view, names: names)
        self.profile = profile
    }

    /// A new part: its frames are numbered from 0 again.
    public mutating func startPart() {
        frames.removeAll(keepingCapacity: true)
        shownIndex.removeAll(keepingCapacity: true)
        isPython.removeAll(keepingCapacity: true)
        isGlue.removeAll(keepingCapacity: true)
    }

    /// The part's next frame, raw.
    public mutating func addFrame(_ frame: Frame) {
        frames.append(frame)
        shownIndex.append(-1)
        isPython.append(frame.kind == .python)
        isGlue.append(!view.interpreterFrames && InterpreterGlue.isInterpreterCode(frame))
    }

    /// A stack of the part's frames (root first); where it went in the
    /// profile, nil for a stack without frames or without a value.
    public mutating func addStack(_ stack: [Int32], values: [UInt64]) -> Int? {
        guard !stack.isEmpty, values.contains(where: { $0 > 0 }) else { return nil }
        key.removeAll(keepingCapacity: true)
        // Glue: the interpreter's native frames strictly between the
        // outermost and the innermost Python frame (InterpreterGlue).
        let outer = view.interpreterFrames ? nil : stack.firstIndex { isPython[Int($0)] }
        let inner = view.interpreterFrames ? nil : stack.lastIndex { isPython[Int($0)] }
        for position in stack.indices {
            let frame = Int(stack[position])
            if let outer, let inner, position > outer, position < inner, isGlue[frame] { continue }
            if shownIndex[frame] < 0 { shownIndex[frame] = profile.intern(shownFrames.shown(frames[frame])) }
            key.append(shownIndex[frame])
        }
        return profile.add(frameIndices: key, values: values)
    }
}
