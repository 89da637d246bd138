/// Which levels of a graph too deep for its maximum height show when it
/// opens. The top of a deep flame graph is mostly empty, so opening there
/// shows nothing; the window goes instead where the most samples end (the
/// levels that hold the most self time), the one nearest the root on a
/// tie. The script pans from there.
struct FlameGraphWindow: Equatable {
    /// The lowest level shown, 0 for the root.
    var firstLevel: Int
    /// How many levels fit.
    var levels: Int

    /// - Parameter coverage: per level, the samples its drawn frames span,
    ///   root first; never more than the level below.
    init(coverage: [UInt64], levels: Int) {
        self.levels = levels
        guard coverage.count > levels, levels > 0 else {
            firstLevel = 0
            return
        }
        // Samples that end at a level: those no drawn callee goes on with.
        let ending = coverage.indices.map { coverage[$0] - (coverage.indices.contains($0 + 1) ? coverage[$0 + 1] : 0) }
        var sum = ending[0..<levels].reduce(0, +)
        var best = (first: 0, sum: sum)
        for first in 1...(coverage.count - levels) {
            sum = sum - ending[first - 1] + ending[first + levels - 1]
            if sum > best.sum { best = (first, sum) }
        }
        firstLevel = best.first
    }

    init(layout: FlameGraphLayout, levels: Int) {
        var coverage = [UInt64](repeating: 0, count: layout.maxDepth + 1)
        for box in layout.boxes { coverage[box.depth] += box.samples }
        self.init(coverage: coverage, levels: levels)
    }
}
