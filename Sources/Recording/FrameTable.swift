import Aggregation

/// Every distinct frame of a recording, once, and every distinct stack as a
/// path in a prefix tree of frame ids: ten thousand stacks through the same
/// hundred functions keep a hundred frames, and a thousand processes
/// running the same code share one path (the process and the thread are
/// kept beside the path, not in it).
///
/// Kept small because a long recording of code that keeps changing (a
/// template engine, generated code) names new frames for as long as it
/// runs: a Python or kernel frame takes 40 bytes rather than `Frame`'s 136
/// (other frames are boxed), a process or thread frame 8 beside its shared
/// name, a prefix node 8, and each of them a 4-byte slot or two in a hash
/// table of ids rather than a dictionary entry holding its key again.
public final class FrameTable {
    /// A frame as the table keeps it.
    private enum StoredFrame {
        /// No module, offset, build ID, id or annotation: Python and kernel
        /// frames. A line of `noLine` is none.
        case plain(function: String, file: String?, line: Int32, kind: Frame.Kind)
        case boxed(FrameBox)

        static let noLine = Int32.min

        init(_ frame: Frame) {
            if frame.module == nil, frame.offset == nil, frame.buildID == nil, frame.id == nil, frame.annotation == nil,
               let line = frame.line.map({ Int32(exactly: $0) }) ?? StoredFrame.noLine, line != StoredFrame.noLine || frame.line == nil {
                self = .plain(function: frame.function, file: frame.file, line: line, kind: frame.kind)
            } else {
                self = .boxed(FrameBox(frame))
            }
        }

        var frame: Frame {
            switch self {
            case let .plain(function, file, line, kind):
                return Frame(kind: kind, function: function, file: file, line: line == StoredFrame.noLine ? nil : Int(line))
            case let .boxed(box):
                return box.frame
            }
        }
    }

    private final class FrameBox {
        let frame: Frame
        init(_ frame: Frame) { self.frame = frame }
    }

    private var frames: [StoredFrame] = []
    private var frameIndex = IDHashTable()
    /// Process and thread frames: (the frame without its id) << 32 | the
    /// pid or tid. Their ids are -2, -3, ...: -(index + 2).
    private var identified: [UInt64] = []
    private var identifiedIndex = IDHashTable()
    /// Node i is (parent node << 32 | frame id); the root, the empty stack, is -1.
    private var nodes: [UInt64] = []
    private var nodeIndex = IDHashTable()

    public static let emptyStack: Int32 = -1

    init() {}

    /// Frames that paths hold, with ids 0..<frameCount.
    public var frameCount: Int { frames.count }
    public var nodeCount: Int { nodes.count }

    /// What the table holds, about: each frame's stored value, its index
    /// slots and its strings too long to be stored inline; each node and
    /// each process or thread frame, and their index slots.
    public private(set) var estimatedBytes = 0

    private static let slotBytes = 2 * (MemoryLayout<Int32>.stride + MemoryLayout<UInt8>.stride)

    func intern(_ frame: Frame) -> Int32 {
        let hash = frame.hashValue
        if let known = frameIndex.find(hash: hash, where: { frames[Int($0)].frame == frame }) { return known }
        let id = Int32(frames.count)
        let stored = StoredFrame(frame)
        frames.append(stored)
        frameIndex.insert(id, hash: hash) { frames[Int($0)].frame.hashValue }
        estimatedBytes += MemoryLayout<StoredFrame>.stride + Self.slotBytes
        if case .boxed = stored { estimatedBytes += 16 + MemoryLayout<Frame>.stride }
        for text in [frame.function, frame.file ?? "", frame.module ?? "", frame.buildID ?? ""] where text.utf8.count > 15 {
            estimatedBytes += 32 + text.utf8.count
        }
        return id
    }

    /// A process or thread frame: its name is a frame like any other, its
    /// pid or tid is kept beside it, so a thousand short-lived processes
    /// of one program cost 8 bytes and a slot each.
    func internIdentity(_ frame: Frame) -> Int32 {
        guard let id = frame.id, frame.kind == .process || frame.kind == .thread else { return intern(frame) }
        var name = frame
        name.id = nil
        let key = UInt64(UInt32(bitPattern: intern(name))) << 32 | UInt64(UInt32(bitPattern: id))
        if let known = identifiedIndex.find(hash: key.hashKey, where: { identified[Int($0)] == key }) { return -2 - known }
        let index = Int32(identified.count)
        identified.append(key)
        identifiedIndex.insert(index, hash: key.hashKey) { identified[Int($0)].hashKey }
        estimatedBytes += MemoryLayout<UInt64>.stride + Self.slotBytes
        return -2 - index
    }

    /// The stack's node: its frames, root first, as a path from the root.
    func intern(_ stack: [Frame]) -> Int32 {
        var node = FrameTable.emptyStack
        for frame in stack {
            let key = UInt64(UInt32(bitPattern: node)) << 32 | UInt64(UInt32(bitPattern: intern(frame)))
            if let child = nodeIndex.find(hash: key.hashKey, where: { nodes[Int($0)] == key }) {
                node = child
            } else {
                let child = Int32(nodes.count)
                nodes.append(key)
                nodeIndex.insert(child, hash: key.hashKey) { nodes[Int($0)].hashKey }
                estimatedBytes += MemoryLayout<UInt64>.stride + Self.slotBytes
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

    /// A path's frame (id 0 and up) or a process or thread frame (below -1).
    public subscript(id: Int32) -> Frame {
        if id >= 0 { return frames[Int(id)].frame }
        let key = identified[Int(-2 - id)]
        var frame = frames[Int(key >> 32)].frame
        frame.id = Int32(bitPattern: UInt32(truncatingIfNeeded: key))
        return frame
    }
}

private extension UInt64 {
    /// The key itself: IDHashTable mixes its bits.
    var hashKey: Int { Int(truncatingIfNeeded: self) }
}
