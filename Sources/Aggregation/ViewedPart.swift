/// One part of a profile as a `ProfileView` shows it, made without the
/// profile it goes into: its frames shown, judged and hashed once each, its
/// stacks as indices into them. All that is left is the profile's lookups
/// (`ProfileViewer.add`), so a stop that reads set-aside stacks back in
/// parts makes part i+1 on one core while the other adds part i.
public struct ViewedPart: Sendable {
    /// The part's frames as shown, numbered from 0 in the part.
    private(set) var frames: [Frame] = []
    /// Each frame's `hashValue`, for `Profile.intern(_:hash:)`.
    private(set) var hashes: [Int] = []
    private(set) var isPython: [Bool] = []
    /// Interpreter code (`InterpreterGlue`), judged on the raw frame.
    private(set) var isGlue: [Bool] = []
    /// The stacks' frame indices, root first, back to back: stack i ends
    /// at `ends[i]`.
    private(set) var stackFrames: [Int32] = []
    private(set) var ends: [Int] = []
    /// `valuesPerStack` values a stack, back to back.
    private(set) var values: [UInt64] = []
    public let valuesPerStack: Int
    /// Why the part stops short (its bytes could not be read or decoded);
    /// the stacks before that are in it.
    public var failure: (any Error)?

    public init(valuesPerStack: Int) {
        self.valuesPerStack = valuesPerStack
    }

    public var stackCount: Int { ends.count }

    /// The part an archive holds (`ProfileArchive.encoded`), its frames as
    /// `shown` shows them; a decoding error ends it (`failure`).
    public init(archive bytes: [UInt8], valuesPerStack: Int, shownBy shown: inout ShownFrames) {
        self.init(valuesPerStack: valuesPerStack)
        // A frame index is a varint of a byte or two: room for them all at
        // once, not grown (and copied) a dozen times on the way.
        stackFrames.reserveCapacity(bytes.count / 2)
        do {
            try ProfileArchive.read(bytes, valuesPerStack: valuesPerStack, frame: { appendFrame($0, shownBy: &shown) },
                                    stack: { appendStack($0, values: $1) })
        } catch {
            failure = error
        }
    }

    /// The part's next frame, raw.
    public mutating func appendFrame(_ frame: Frame, shownBy shown: inout ShownFrames) {
        let shownFrame = shown.shown(frame)
        frames.append(shownFrame)
        hashes.append(shownFrame.hashValue)
        isPython.append(frame.kind == .python)
        isGlue.append(InterpreterGlue.isInterpreterCode(frame))
    }

    /// A stack of the part's frames already appended, root first, with
    /// `valuesPerStack` values.
    public mutating func appendStack(_ stack: [Int32], values stackValues: [UInt64]) {
        precondition(stackValues.count == valuesPerStack, "one value per sample type")
        precondition(stack.allSatisfy { frames.indices.contains(Int($0)) }, "a stack of frames not in the part")
        stackFrames += stack
        ends.append(stackFrames.count)
        values += stackValues
    }
}
