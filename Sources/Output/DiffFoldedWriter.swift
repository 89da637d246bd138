import Aggregation

/// The difference of two profiles as folded stacks with two counts, the
/// format of flamegraph.pl's difffolded.pl, which flamegraph.pl and inferno
/// draw as a differential graph:
///
///     frame;frame;frame BEFORE AFTER
///
/// BEFORE is scaled to AFTER's total and rounded when the difference is
/// normalized, raw otherwise; AFTER is always raw. A stack found in one
/// profile only has 0 in the other column. Frame names and their escaping
/// are those of `FoldedWriter`, with processes and threads named without
/// their ids, as the two profiles were matched.
public struct DiffFoldedWriter {
    public init() {}

    public func write(_ diff: ProfileDiff, to stream: ByteStream) throws {
        var names: [Frame: String] = [:]
        func name(_ frame: Frame) -> String {
            if let known = names[frame] { return known }
            let made = FoldedWriter.sanitize(FrameNaming.displayName(frame))
            names[frame] = made
            return made
        }
        let lines = diff.stacks.map { stack in
            (stack.frames.map(name), UInt64(diff.comparableBefore(stack.before).rounded()), stack.after)
        }
        var out = ChunkedText(stream)
        for (frames, before, after) in lines.sorted(by: { Self.precedes($0.0, $1.0) }) {
            try out.append(frames.joined(separator: ";") + " \(before) \(after)\n")
        }
        try out.flush()
    }

    public func rendered(_ diff: ProfileDiff) -> String {
        let memory = MemoryStream()
        try? write(diff, to: memory)
        return memory.text
    }

    /// By frame names, root first; a stack before its extensions.
    private static func precedes(_ a: [String], _ b: [String]) -> Bool {
        for (x, y) in zip(a, b) where x != y { return x < y }
        return a.count < b.count
    }
}
