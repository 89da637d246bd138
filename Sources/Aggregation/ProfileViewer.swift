/// Adds parts of raw frames and stacks (`ViewedPart`) to a profile as a
/// `ProfileView` shows them: what `ProfileView.apply` does to one profile,
/// fed part by part, so a profile read back in chunks (`ProfileArchive`)
/// is seen and merged in one pass without a raw copy of each chunk. Each
/// distinct frame of a part is interned once, on first use; a stack then
/// costs its integer ids.
public struct ProfileViewer {
    public private(set) var profile: Profile
    private let view: ProfileView
    /// The current part's frames' indices in the profile; -1 not interned yet.
    private var shownIndex: [Int32] = []
    private var key: [Int32] = []
    private var stackValues: [UInt64] = []

    public init(view: ProfileView, into profile: Profile) {
        self.view = view
        self.profile = profile
    }

    /// Adds the part's stacks; where each went in the profile, in order
    /// (-1 for a stack without frames or without a value).
    public mutating func add(_ part: ViewedPart) -> [Int] {
        precondition(part.valuesPerStack == profile.sampleTypes.count, "one value per sample type")
        shownIndex.removeAll(keepingCapacity: true)
        shownIndex += repeatElement(-1, count: part.frames.count)
        stackValues = Array(repeating: 0, count: part.valuesPerStack)
        var placed: [Int] = []
        placed.reserveCapacity(part.stackCount)
        var start = 0
        for (stack, end) in part.ends.enumerated() {
            for type in stackValues.indices { stackValues[type] = part.values[stack * part.valuesPerStack + type] }
            placed.append(add(part, frames: part.stackFrames[start..<end]) ?? -1)
            start = end
        }
        return placed
    }

    private mutating func add(_ part: ViewedPart, frames stack: ArraySlice<Int32>) -> Int? {
        guard !stack.isEmpty, stackValues.contains(where: { $0 > 0 }) else { return nil }
        key.removeAll(keepingCapacity: true)
        // Glue: the interpreter's native frames strictly between the
        // outermost and the innermost Python frame (InterpreterGlue).
        let outer = view.interpreterFrames ? nil : stack.firstIndex { part.isPython[Int($0)] }
        let inner = view.interpreterFrames ? nil : stack.lastIndex { part.isPython[Int($0)] }
        for position in stack.indices {
            let frame = Int(stack[position])
            if let outer, let inner, position > outer, position < inner, part.isGlue[frame] { continue }
            if shownIndex[frame] < 0 { shownIndex[frame] = profile.intern(part.frames[frame], hash: part.hashes[frame]) }
            key.append(shownIndex[frame])
        }
        return profile.add(frameIndices: key, values: stackValues)
    }
}
