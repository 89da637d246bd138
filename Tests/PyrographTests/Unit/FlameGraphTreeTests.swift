import XCTest
@testable import Aggregation
@testable import Output

/// The tree a flame graph is drawn from stops growing below the narrowest
/// frame drawn; the drawing must not see the difference.
final class FlameGraphTreeTests: XCTestCase {
    func testStoppingBelowTheMinimumLeavesTheLayoutUnchanged() {
        let profile = Self.churningProfile()
        for minimum in [0.5, 2, 3, 10, 40, 200] {
            let full = FlameGraphLayout(tree: FlameGraphTree(profile: profile), minimumSamples: minimum)
            let pruned = FlameGraphLayout(tree: FlameGraphTree(profile: profile, minimumSamples: minimum),
                                          minimumSamples: minimum)
            XCTAssertEqual(pruned.boxes, full.boxes, "minimum \(minimum)")
            XCTAssertEqual(pruned.maxDepth, full.maxDepth, "minimum \(minimum)")
            XCTAssertEqual(pruned.totalSamples, full.totalSamples, "minimum \(minimum)")
        }
        XCTAssertGreaterThan(FlameGraphLayout(profile: profile, minimumSamples: 3).boxes.count, 20,
                             "the check above compares real graphs")
    }

    func testStacksBelowTheMinimumStopWhereTheyFallUnderIt() {
        let profile = Self.churningProfile()
        let full = Self.nodeCount(FlameGraphTree(profile: profile).root)
        let tree = FlameGraphTree(profile: profile, minimumSamples: 10)
        let pruned = Self.nodeCount(tree.root)
        XCTAssertLessThan(pruned * 3, full, "rare tails are not grown: \(pruned) of \(full) nodes")
        var grownBelow: [String] = []
        func visit(_ node: FlameGraphTree.Node) {
            if node.samples < 10 && !node.sortedChildren.isEmpty { grownBelow.append(node.name) }
            node.sortedChildren.forEach(visit)
        }
        visit(tree.root)
        XCTAssertEqual(grownBelow, [], "nodes under the minimum have no callees")
    }

    /// Busy shared paths, a frame name found both as a Python and a native
    /// frame, and many stacks that are each seen once or twice, as code
    /// that keeps making new functions gives.
    static func churningProfile() -> Profile {
        var profile = Profile()
        var random = SplitMix(seed: 7)
        let process = Frame.process(comm: "app", pid: 1)
        let shared = ["main", "serve", "handle", "parse", "render", "query"]
        for round in 0..<400 {
            var frames = [process]
            for depth in 0..<Int(random.next() % 5) {
                let name = shared[Int(random.next() % UInt64(shared.count))]
                frames.append(depth == 2 && random.next() % 3 == 0
                    ? .native(symbol: name, module: "lib.so") : .python(function: name, file: "app.py", line: depth))
            }
            let count = random.next() % 4 == 0 ? 1 + random.next() % 50 : 1 + random.next() % 2
            for level in 0..<Int(2 + random.next() % 10) {
                frames.append(.python(function: "generated_\(round)_\(level)", file: "gen_\(round).py", line: level))
            }
            profile.add(frames, count: count)
        }
        return profile
    }

    static func nodeCount(_ node: FlameGraphTree.Node) -> Int {
        1 + node.sortedChildren.reduce(0) { $0 + nodeCount($1) }
    }

    /// A small, seeded generator: the same profile on every run.
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
