import Aggregation

/// Two profiles of the same program compared stack by stack: what a
/// differential flame graph and the folded difference are drawn from.
///
/// Two recordings never share process ids, so processes are matched by
/// command and threads by name. Each profile is valued in its default
/// sample type; the two must measure the same thing. Normalized (the
/// default), the BEFORE values are scaled to AFTER's total, so a frame
/// counts as grown only when its share of the run grew, not because one
/// recording ran longer than the other.
public struct ProfileDiff: Sendable {
    public struct Stack: Sendable, Equatable {
        /// Root first.
        public var frames: [Frame]
        public var before: UInt64
        public var after: UInt64
    }

    public struct IncomparableSampleTypes: Error, CustomStringConvertible {
        public var before: SampleType
        public var after: SampleType
        public var description: String {
            "the profiles measure different things: BEFORE counts \(before.name) (\(before.unit.rawValue)), "
                + "AFTER \(after.name) (\(after.unit.rawValue))"
        }
    }

    /// Stacks in either profile, in no particular order.
    public let stacks: [Stack]
    public let beforeTotal: UInt64
    public let afterTotal: UInt64
    public let isNormalized: Bool

    public init(before: Profile, after: Profile, normalized: Bool = true) throws {
        let beforeType = before.sampleTypes[before.defaultSampleType]
        let afterType = after.sampleTypes[after.defaultSampleType]
        guard beforeType == afterType else { throw IncomparableSampleTypes(before: beforeType, after: afterType) }
        var stacks: [Stack] = []
        var index: [[Frame]: Int] = [:]
        func add(_ profile: Profile, _ assign: (inout Stack, UInt64) -> Void) -> UInt64 {
            var total: UInt64 = 0
            for stack in profile.stacks {
                let value = stack.values[profile.defaultSampleType]
                guard value > 0 else { continue }
                total += value
                let frames = profile.frames(of: stack).map(Self.comparable)
                let position = index[frames] ?? {
                    stacks.append(Stack(frames: frames, before: 0, after: 0))
                    index[frames] = stacks.count - 1
                    return stacks.count - 1
                }()
                assign(&stacks[position], value)
            }
            return total
        }
        beforeTotal = add(before) { $0.before += $1 }
        afterTotal = add(after) { $0.after += $1 }
        isNormalized = normalized
        self.stacks = stacks
    }

    /// A BEFORE value as it is compared with AFTER's: scaled to AFTER's
    /// total when normalized.
    public func comparableBefore(_ value: UInt64) -> Double {
        guard isNormalized, beforeTotal > 0 else { return Double(value) }
        return Double(value) * Double(afterTotal) / Double(beforeTotal)
    }

    /// Processes by command, threads by name: their ids differ every run.
    static func comparable(_ frame: Frame) -> Frame {
        switch frame.kind {
        case .process, .thread:
            var matched = frame
            matched.id = nil
            return matched
        case .kernel, .native, .python, .annotation:
            return frame
        }
    }
}
