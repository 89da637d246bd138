import Aggregation

/// The sink that becomes the recording's profile: counts and CPU time per
/// distinct stack, named at the end (after the session's last attempt to
/// name them), and optionally every sample in time.
public final class ProfileSink: SampleSink {
    public static let sampleTypes: [SampleType] = [.samples, .cpuTime]

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
    private var totals: [Int: Totals] = [:]
    private var timeline: [TimedEntry] = []

    public init(options: StackAggregator.Options = .init(), keepsTimeline: Bool = false) {
        self.options = options
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

    /// The profile of everything consumed so far.
    public func profile(recording: RecordingInfo?) -> Profile {
        var aggregator = StackAggregator(options: options, sampleTypes: Self.sampleTypes)
        var stackIndex: [Int: Int] = [:]
        for (id, entry) in totals {
            let sample = StackAggregator.Sample(process: entry.stack.process, thread: entry.stack.thread,
                                                frames: entry.stack.frames,
                                                values: [entry.samples, entry.nanoseconds])
            stackIndex[id] = aggregator.add(sample)
        }
        for entry in timeline {
            guard let stack = stackIndex[entry.stackID] else { continue }
            aggregator.appendTimeline(.init(stack: stack, timestampNanoseconds: entry.timestampNanoseconds,
                                            cpu: entry.cpu, values: [1, entry.weightNanoseconds]))
        }
        if let recording { aggregator.setRecording(recording) }
        return aggregator.finished()
    }
}
