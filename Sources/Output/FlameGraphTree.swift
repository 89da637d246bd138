import Aggregation

/// Stacks merged into one call tree by display name, each node counting
/// the samples of the stacks through it. A differential flame graph fills
/// `baseline` from the profile it compares against; a plain one leaves it 0.
///
/// Names are numbered once (`nameIDs`) and children found by number: a
/// profile of 90,000 deep stacks hashed each frame's name string per
/// stack, 1 s of a recording's stop.
final class FlameGraphTree {
    final class Node {
        let name: String
        /// nil for the synthetic root.
        private(set) var frame: Frame?
        var samples: UInt64 = 0
        var baseline: UInt64 = 0
        private(set) var children: [Int32: Node] = [:]

        init(name: String, frame: Frame?) {
            self.name = name
            self.frame = frame
        }

        /// Children ordered by name, so the drawing does not depend on
        /// dictionary order.
        var sortedChildren: [Node] { children.values.sorted { $0.name < $1.name } }

        /// Frames merge by name alone. Should two kinds share a name, the
        /// lower raw value wins, so the colour does not depend on the order
        /// of the stacks. `frame` is read only where it may be kept.
        func child(id: Int32, name: String, kind: Frame.Kind, frame: () -> Frame) -> Node {
            if let existing = children[id] {
                if let existingFrame = existing.frame, kind.rawValue < existingFrame.kind.rawValue {
                    existing.frame = frame()
                }
                return existing
            }
            let created = Node(name: name, frame: frame())
            children[id] = created
            return created
        }
    }

    static let rootName = "all"

    let root = Node(name: FlameGraphTree.rootName, frame: nil)
    /// Display name to number, and back.
    private var nameIDs: [String: Int32] = [:]
    private var names: [String] = []

    init() {}

    /// The profile's stacks, valued in its default sample type.
    ///
    /// A node of fewer than `minimumSamples` is kept, with its samples, but
    /// not its callees: the layout leaves out such a node and everything
    /// above it, and needs only its width to place its siblings. The tree is
    /// grown a level at a time, so that the stacks below the minimum stop
    /// where they fall under it: a recording whose code keeps changing has
    /// a million nodes, and twenty thousand wide enough to draw.
    convenience init(profile: Profile, minimumSamples: Double = 0) {
        self.init()
        // Named as reached: most frames of such a recording never are.
        var ids = [Int32](repeating: -1, count: profile.frames.count)
        /// A stack still growing the tree, and the node its next frame hangs from.
        struct Growing {
            var stack: Int
            var node: Node
            var count: UInt64
        }
        var growing: [Growing] = []
        for (index, stack) in profile.stacks.enumerated() {
            let count = stack.values[profile.defaultSampleType]
            guard count > 0 else { continue }
            root.samples += count
            growing.append(Growing(stack: index, node: root, count: count))
        }
        var depth = 0
        while !growing.isEmpty {
            // Every stack adds its samples at this depth before any node is
            // judged: a node's width is known only once all are in.
            var next: [Growing] = []
            next.reserveCapacity(growing.count)
            for entry in growing {
                let frames = profile.stacks[entry.stack].frames
                guard depth < frames.count else { continue }
                let index = Int(frames[depth])
                if ids[index] < 0 { ids[index] = nameID(FrameNaming.displayName(profile.frames[index])) }
                let id = ids[index]
                let child = entry.node.child(id: id, name: names[Int(id)], kind: profile.frames[index].kind) {
                    profile.frames[index]
                }
                child.samples += entry.count
                next.append(Growing(stack: entry.stack, node: child, count: entry.count))
            }
            next.removeAll { Double($0.node.samples) < minimumSamples }
            growing = next
            depth += 1
        }
    }

    /// Adds a stack, root first, to every node on its path.
    func add(_ stack: [(name: String, frame: Frame)], samples: UInt64, baseline: UInt64) {
        root.samples += samples
        root.baseline += baseline
        var node = root
        for (name, frame) in stack {
            node = node.child(id: nameID(name), name: name, kind: frame.kind) { frame }
            node.samples += samples
            node.baseline += baseline
        }
    }

    private func nameID(_ name: String) -> Int32 {
        if let known = nameIDs[name] { return known }
        let id = Int32(names.count)
        names.append(name)
        nameIDs[name] = id
        return id
    }
}
