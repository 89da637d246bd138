import Aggregation

/// The sink that becomes the recording's profile: counts and CPU time per
/// distinct stack, named at the end (after the session's last attempt to
/// name them), and optionally every sample in time.
///
/// With a wall clock, on-CPU samples and off-CPU intervals are in one unit:
/// the profile's values are wall nanoseconds, and its `samples` are
/// sample-period equivalents (a stack's time divided by the sampling period,
/// rounded once per stack), so an interval of t weighs what rate × t on-CPU
/// samples weigh and folded counts stay integers whose shares add up.
public final class ProfileSink: SampleSink {
    public static let sampleTypes: [SampleType] = [.samples, .cpuTime]
    public static let wallSampleTypes: [SampleType] = [.samples, .wallTime]

    private struct Totals {
        var stack: SymbolizedStack
        var samples: UInt64 = 0
        var nanoseconds: UInt64 = 0
    }

    private struct TimedEntry {
        var stackID: Int
        var timestampNanoseconds: UInt64
        var cpu: UInt32
        var weightNanoseconds: UInt64
    }

    private let options: StackAggregator.Options
    private let keepsTimeline: Bool
    /// The sampling period in nanoseconds when the profile is in wall time.
    private let wallPeriodNanoseconds: UInt64?
    private var totals: [Int: Totals] = [:]
    private var timeline: [TimedEntry] = []

    /// `wallPeriodNanoseconds`: build a wall-clock profile (see above) at this
    /// sampling period; nil counts records, as a CPU profile does.
    public init(options: StackAggregator.Options = .init(), keepsTimeline: Bool = false,
                wallPeriodNanoseconds: UInt64? = nil) {
        self.options = options
        self.wallPeriodNanoseconds = wallPeriodNanoseconds.map { max($0, 1) }
        self.keepsTimeline = keepsTimeline
    }

    public func consume(_ sample: SymbolizedSample) {
        let id = sample.stack.id
        totals[id, default: Totals(stack: sample.stack)].samples += 1
        totals[id]!.nanoseconds += sample.weightNanoseconds
        if keepsTimeline {
            timeline.append(TimedEntry(stackID: id, timestampNanoseconds: sample.timestampNanoseconds,
                                       cpu: sample.cpu, weightNanoseconds: sample.weightNanoseconds))
        }
    }

    /// The profile of everything consumed so far. Each distinct frame of
    /// the session's tables is judged by the view and interned once; a
    /// stack then costs its integer ids (stopping with 200,000 stacks must
    /// not take seconds).
    public func profile(recording: RecordingInfo?) -> Profile {
        let view = StackAggregator(options: options)
        var profile = Profile(sampleTypes: wallPeriodNanoseconds == nil ? Self.sampleTypes : Self.wallSampleTypes)
        /// Per table, session frame id to profile index; -1 dropped by the view.
        var indices: [ObjectIdentifier: [Int32]] = [:]
        var stackIndex: [Int: Int] = [:]
        var key: [Int32] = []
        for (id, entry) in totals.sorted(by: { $0.key < $1.key }) {
            let stack = entry.stack
            let table = stack.frameTable
            var known = indices.removeValue(forKey: ObjectIdentifier(table)) ?? []
            if known.count < table.frameCount {
                known += repeatElement(-2, count: table.frameCount - known.count)
            }
            key.removeAll(keepingCapacity: true)
            var process = stack.process
            if options.mergeProcesses { process.id = nil }
            key.append(profile.intern(process))
            if options.perThread { key.append(profile.intern(stack.thread)) }
            for frameID in stack.frameIDs {
                var index = known[Int(frameID)]
                if index == -2 {
                    let frame = table[frameID]
                    index = view.keeps(frame) ? profile.intern(frame) : -1
                    known[Int(frameID)] = index
                }
                if index >= 0 { key.append(index) }
            }
            indices[ObjectIdentifier(table)] = known
            stackIndex[id] = profile.add(frameIndices: key, values: [count(entry.samples, entry.nanoseconds), entry.nanoseconds])
        }
        for entry in timeline {
            guard let stack = stackIndex[entry.stackID] else { continue }
            profile.appendTimeline(.init(stack: stack, timestampNanoseconds: entry.timestampNanoseconds,
                                         cpu: entry.cpu, values: [count(1, entry.weightNanoseconds), entry.weightNanoseconds]))
        }
        profile.recording = recording
        profile.sortTimeline()
        return profile
    }

    /// Records, or with a wall clock, sample-period equivalents.
    private func count(_ records: UInt64, _ nanoseconds: UInt64) -> UInt64 {
        guard let period = wallPeriodNanoseconds else { return records }
        return (nanoseconds + period / 2) / period
    }
}
