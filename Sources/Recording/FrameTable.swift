import Aggregation

/// Every distinct frame of a recording, once: stacks hold indices into it,
/// so ten thousand stacks through the same hundred functions keep a hundred
/// frames.
public final class FrameTable {
    public private(set) var frames: [Frame] = []
    private var index: [Frame: Int32] = [:]

    init() {}

    func intern(_ frame: Frame) -> Int32 {
        if let known = index[frame] { return known }
        let id = Int32(frames.count)
        frames.append(frame)
        index[frame] = id
        return id
    }

    func intern(_ stack: [Frame]) -> [Int32] {
        stack.map(intern)
    }

    public subscript(id: Int32) -> Frame { frames[Int(id)] }
}
