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
    convenience init(profile: Profile) {
        self.init()
        let ids = profile.frames.map { nameID(FrameNaming.displayName($0)) }
        let kinds = profile.frames.map(\.kind)
        for stack in profile.stacks {
            let count = stack.values[profile.defaultSampleType]
            guard count > 0 else { continue }
            root.samples += count
            var node = root
            for index in stack.frames.lazy.map(Int.init) {
                node = node.child(id: ids[index], name: names[Int(ids[index])], kind: kinds[index]) { profile.frames[index] }
                node.samples += count
            }
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
