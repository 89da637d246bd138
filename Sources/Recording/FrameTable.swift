import Aggregation

/// Every distinct frame of a recording, once, and every distinct stack as a
/// path in a prefix tree of frame ids: ten thousand stacks through the same
/// hundred functions keep a hundred frames, and a thousand processes
/// running the same code share one path (the process and the thread are
/// kept beside the path, not in it).
///
/// A frame costs its `Frame` value and a hash-to-id entry (the value is not
/// stored twice as a dictionary key); a stack costs only the tree nodes its
/// prefix does not share, 8 bytes and an index entry each.
public final class FrameTable {
    public private(set) var frames: [Frame] = []
    /// Hash value to id; the rare frame whose hash is taken goes in `collisions`.
    private var byHash: [Int: Int32] = [:]
    private var collisions: [Frame: Int32] = [:]
    /// Node i is (parent node << 32 | frame id); the root, the empty stack, is -1.
    private var nodes: [UInt64] = []
    private var nodeIndex: [UInt64: Int32] = [:]

    public static let emptyStack: Int32 = -1

    init() {}

    public var frameCount: Int { frames.count }
    public var nodeCount: Int { nodes.count }

    /// What the table holds, about: each frame's value, its index entry and
    /// its strings too long to be stored inline; each node and its entry.
    public private(set) var estimatedBytes = 0

    func intern(_ frame: Frame) -> Int32 {
        let hash = frame.hashValue
        if let candidate = byHash[hash] {
            if frames[Int(candidate)] == frame { return candidate }
            if let known = collisions[frame] { return known }
            let id = append(frame)
            collisions[frame] = id
            return id
        }
        let id = append(frame)
        byHash[hash] = id
        return id
    }

    /// The stack's node: its frames, root first, as a path from the root.
    func intern(_ stack: [Frame]) -> Int32 {
        var node = FrameTable.emptyStack
        for frame in stack {
            let key = UInt64(UInt32(bitPattern: node)) << 32 | UInt64(UInt32(bitPattern: intern(frame)))
            if let child = nodeIndex[key] {
                node = child
            } else {
                let child = Int32(nodes.count)
                estimatedBytes += 8 + 24
                nodes.append(key)
                nodeIndex[key] = child
                node = child
            }
        }
        return node
    }

    /// The frame ids of a node's path, root first.
    func frameIDs(of node: Int32) -> [Int32] {
        var ids: [Int32] = []
        appendFrameIDs(of: node, to: &ids)
        return ids
    }

    /// Appends the frame ids of a node's path, root first, to `ids`.
    func appendFrameIDs(of node: Int32, to ids: inout [Int32]) {
        let start = ids.count
        var current = node
        while current != FrameTable.emptyStack {
            let entry = nodes[Int(current)]
            ids.append(Int32(bitPattern: UInt32(truncatingIfNeeded: entry)))
            current = Int32(bitPattern: UInt32(truncatingIfNeeded: entry >> 32))
        }
        ids[start...].reverse()
    }

    public subscript(id: Int32) -> Frame { frames[Int(id)] }

    private func append(_ frame: Frame) -> Int32 {
        let id = Int32(frames.count)
        frames.append(frame)
        estimatedBytes += MemoryLayout<Frame>.stride + 24
        for text in [frame.function, frame.file ?? "", frame.module ?? ""] where text.utf8.count > 15 {
            estimatedBytes += 32 + text.utf8.count
        }
        return id
    }
}
