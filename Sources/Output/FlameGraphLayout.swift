import Aggregation

/// A call tree laid out in sample units: every frame knows how many samples
/// lie to its left and how many it spans. Pixels are the writer's business;
/// this stays exact.
struct FlameGraphLayout {
    struct Box: Equatable {
        /// nil for the synthetic root that spans every sample.
        var frame: Frame?
        var name: String
        /// 0 for the root; a frame sits one level above its caller.
        var depth: Int
        /// Samples to the left of this frame across the whole graph. With
        /// `samples` it places the frame exactly at any zoom.
        var offset: UInt64
        var samples: UInt64
        /// The same frame's samples in the profile compared against, for a
        /// differential graph; 0 otherwise.
        var baseline: UInt64

        var kind: Frame.Kind? { frame?.kind }
    }

    static let rootName = FlameGraphTree.rootName

    let totalSamples: UInt64
    let totalBaseline: UInt64
    /// Parents before their children; siblings ordered by name.
    private(set) var boxes: [Box] = []
    private(set) var maxDepth = 0

    init(profile: Profile, minimumSamples: Double) {
        self.init(tree: FlameGraphTree(profile: profile, minimumSamples: minimumSamples), minimumSamples: minimumSamples)
    }

    /// Frames spanning fewer than `minimumSamples` are left out, and so is
    /// everything they called, which can only be narrower.
    ///
    /// - Parameter baselineScale: for a differential graph, what turns a
    ///   baseline value into samples. A frame is then kept when either value
    ///   reaches the minimum, so one that vanished or nearly did is still
    ///   there, without width, for the search to count what it had.
    init(tree: FlameGraphTree, minimumSamples: Double, baselineScale: Double? = nil) {
        totalSamples = tree.root.samples
        totalBaseline = tree.root.baseline
        guard totalSamples > 0 else { return }
        let keep: (FlameGraphTree.Node) -> Bool
        if let baselineScale {
            keep = { node in
                max(Double(node.samples), Double(node.baseline) * baselineScale) >= max(minimumSamples, .leastNonzeroMagnitude)
            }
        } else {
            keep = { node in node.samples > 0 && Double(node.samples) >= minimumSamples }
        }
        place(tree.root, depth: 0, offset: 0, keep: keep)
    }

    private mutating func place(_ node: FlameGraphTree.Node, depth: Int, offset: UInt64,
                                keep: (FlameGraphTree.Node) -> Bool) {
        boxes.append(Box(frame: node.frame, name: node.name, depth: depth, offset: offset,
                         samples: node.samples, baseline: node.baseline))
        maxDepth = max(maxDepth, depth)
        var childOffset = offset
        for child in node.sortedChildren {
            if keep(child) { place(child, depth: depth + 1, offset: childOffset, keep: keep) }
            childOffset += child.samples
        }
    }
}
