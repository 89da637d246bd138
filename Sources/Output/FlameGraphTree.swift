import Aggregation

/// Stacks merged into one call tree by display name, each node counting
/// the samples of the stacks through it. A differential flame graph fills
/// `baseline` from the profile it compares against; a plain one leaves it 0.
final class FlameGraphTree {
    final class Node {
        let name: String
        /// nil for the synthetic root.
        private(set) var frame: Frame?
        var samples: UInt64 = 0
        var baseline: UInt64 = 0
        private(set) var children: [String: Node] = [:]

        init(name: String, frame: Frame?) {
            self.name = name
            self.frame = frame
        }

        /// Children ordered by name, so the drawing does not depend on
        /// dictionary order.
        var sortedChildren: [Node] { children.values.sorted { $0.name < $1.name } }

        /// Frames merge by name alone. Should two kinds share a name, the
        /// lower raw value wins, so the colour does not depend on the order
        /// of the stacks.
        func child(named name: String, frame: Frame) -> Node {
            if let existing = children[name] {
                if let existingFrame = existing.frame, frame.kind.rawValue < existingFrame.kind.rawValue {
                    existing.frame = frame
                }
                return existing
            }
            let created = Node(name: name, frame: frame)
            children[name] = created
            return created
        }
    }

    static let rootName = "all"

    let root = Node(name: FlameGraphTree.rootName, frame: nil)

    init() {}

    /// The profile's stacks, valued in its default sample type.
    convenience init(profile: Profile) {
        self.init()
        let names = profile.frames.map(FrameNaming.displayName)
        for stack in profile.stacks {
            let count = stack.values[profile.defaultSampleType]
            guard count > 0 else { continue }
            add(stack.frames.map { (names[Int($0)], profile.frames[Int($0)]) }, samples: count, baseline: 0)
        }
    }

    /// Adds a stack, root first, to every node on its path.
    func add(_ stack: [(name: String, frame: Frame)], samples: UInt64, baseline: UInt64) {
        root.samples += samples
        root.baseline += baseline
        var node = root
        for (name, frame) in stack {
            node = node.child(named: name, frame: frame)
            node.samples += samples
            node.baseline += baseline
        }
    }
}
