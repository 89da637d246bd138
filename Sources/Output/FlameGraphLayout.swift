import Aggregation

/// A profile's stacks merged into one call tree and laid out in sample
/// units: every frame knows how many samples lie to its left and how many it
/// spans. Pixels are the writer's business; this stays exact.
struct FlameGraphLayout {
    struct Box: Equatable {
        /// nil for the synthetic root that spans every sample.
        var kind: Frame.Kind?
        var name: String
        /// 0 for the root; a frame sits one level above its caller.
        var depth: Int
        /// Samples to the left of this frame across the whole graph. With
        /// `samples` it places the frame exactly at any zoom.
        var offset: UInt64
        var samples: UInt64
    }

    static let rootName = "all"

    let totalSamples: UInt64
    /// Parents before their children; siblings ordered by name.
    private(set) var boxes: [Box] = []
    private(set) var maxDepth = 0

    /// Frames spanning fewer than `minimumSamples` are left out, and so is
    /// everything they called, which can only be narrower.
    init(profile: Profile, minimumSamples: Double) {
        let root = CallTreeNode(name: Self.rootName, kind: nil)
        let names = profile.frames.map(FrameNaming.displayName)
        for stack in profile.stacks {
            let count = stack.values[profile.defaultSampleType]
            guard count > 0 else { continue }
            root.samples += count
            var node = root
            for index in stack.frames {
                node = node.child(named: names[Int(index)], kind: profile.frames[Int(index)].kind)
                node.samples += count
            }
        }
        totalSamples = root.samples
        guard totalSamples > 0 else { return }
        place(root, depth: 0, offset: 0, minimumSamples: minimumSamples)
    }

    private mutating func place(_ node: CallTreeNode, depth: Int, offset: UInt64, minimumSamples: Double) {
        boxes.append(Box(kind: node.kind, name: node.name, depth: depth, offset: offset, samples: node.samples))
        maxDepth = max(maxDepth, depth)
        var childOffset = offset
        for child in node.children.values.sorted(by: { $0.name < $1.name }) {
            if Double(child.samples) >= minimumSamples {
                place(child, depth: depth + 1, offset: childOffset, minimumSamples: minimumSamples)
            }
            childOffset += child.samples
        }
    }
}

private final class CallTreeNode {
    let name: String
    var kind: Frame.Kind?
    var samples: UInt64 = 0
    var children: [String: CallTreeNode] = [:]

    init(name: String, kind: Frame.Kind?) {
        self.name = name
        self.kind = kind
    }

    /// Frames merge by name alone. Should two kinds share a name, the lower
    /// raw value wins, so the colour does not depend on dictionary order.
    func child(named name: String, kind: Frame.Kind) -> CallTreeNode {
        if let existing = children[name] {
            if let existingKind = existing.kind, kind.rawValue < existingKind.rawValue { existing.kind = kind }
            return existing
        }
        let created = CallTreeNode(name: name, kind: kind)
        children[name] = created
        return created
    }
}
