/// Distinct stacks with their sample counts: the one model every output
/// format and command reads. Stacks are root first.
public struct Profile: Sendable, Equatable {
    public private(set) var counts: [[Frame]: UInt64] = [:]
    public private(set) var totalSamples: UInt64 = 0

    public init() {}

    public mutating func add(_ stack: [Frame], count: UInt64 = 1) {
        guard count > 0, !stack.isEmpty else { return }
        counts[stack, default: 0] += count
        totalSamples += count
    }

    public mutating func merge(_ other: Profile) {
        for (stack, count) in other.counts { add(stack, count: count) }
    }

    public var isEmpty: Bool { counts.isEmpty }

    /// Stacks in a stable order (by frame names, root first), so that output
    /// is deterministic and golden files can compare it.
    public func sortedStacks() -> [(frames: [Frame], count: UInt64)] {
        counts.map { (frames: $0.key, count: $0.value) }
            .sorted { Profile.precedes($0.frames, $1.frames) }
    }

    static func precedes(_ a: [Frame], _ b: [Frame]) -> Bool {
        for (x, y) in zip(a, b) where x.name != y.name {
            return x.name < y.name
        }
        return a.count < b.count
    }

    /// Samples per root frame (per process), largest first.
    public func samplesPerRoot() -> [(root: Frame, count: UInt64)] {
        var perRoot: [Frame: UInt64] = [:]
        for (stack, count) in counts { perRoot[stack[0], default: 0] += count }
        return perRoot.map { (root: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.root.name < $1.root.name }
    }
}
