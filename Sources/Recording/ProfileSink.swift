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

    /// The profile of everything consumed so far, as `naming` shows it:
    /// what `naming.apply(to: profile(recording:))` gives, built in one
    /// pass. Each distinct frame of the session's tables is judged by the
    /// aggregator's view, renamed and interned once; a stack then costs its
    /// integer ids (stopping with 80,000 stacks of new frames took 3 s when
    /// the profile was built twice).
    public func profile(recording: RecordingInfo?, naming: ProfileView = .unchanged) -> Profile {
        let view = StackAggregator(options: options)
        var profile = Profile(sampleTypes: wallPeriodNanoseconds == nil ? Self.sampleTypes : Self.wallSampleTypes)
        let ordered = totals.sorted { $0.key < $1.key }
        // First each stack's frames that the aggregator keeps, and the
        // distinct outermost Python frames, which say where the scripts lie.
        var tables: [ObjectIdentifier: TableState] = [:]
        var keptFrames: [[Int32]] = []
        keptFrames.reserveCapacity(ordered.count)
        for (_, entry) in ordered {
            let table = entry.stack.frameTable
            var state = tables.removeValue(forKey: ObjectIdentifier(table)) ?? TableState(table: table)
            state.grow()
            let kept = entry.stack.frameIDs.filter { state.flags(of: $0, view: view).contains(.kept) }
            if let first = kept.first(where: { state.flags[Int($0)].contains(.python) }) { state.outermostPython.insert(first) }
            keptFrames.append(kept)
            tables[ObjectIdentifier(table)] = state
        }
        let names = naming.fullFileNames ? nil : PythonFileNames(outermostPythonFrames: tables.values.flatMap { state in
            state.outermostPython.map { state.table[$0] }
        })
        var stackIndex: [Int: Int] = [:]
        var key: [Int32] = []
        for ((id, entry), kept) in zip(ordered, keptFrames) {
            let stack = entry.stack
            let table = stack.frameTable
            var state = tables.removeValue(forKey: ObjectIdentifier(table))!
            // Glue: the interpreter's native frames strictly between the
            // outermost and the innermost Python frame (InterpreterGlue).
            var outer = kept.count, inner = -1
            if !naming.interpreterFrames {
                outer = kept.firstIndex { state.flags[Int($0)].contains(.python) } ?? kept.count
                inner = kept.lastIndex { state.flags[Int($0)].contains(.python) } ?? -1
            }
            key.removeAll(keepingCapacity: true)
            var process = stack.process
            if options.mergeProcesses { process.id = nil }
            key.append(profile.intern(naming.shown(process, names: names)))
            if options.perThread { key.append(profile.intern(naming.shown(stack.thread, names: names))) }
            for (position, frameID) in kept.enumerated() {
                if position > outer && position < inner && state.flags[Int(frameID)].contains(.glue) { continue }
                var index = state.index[Int(frameID)]
                if index < 0 {
                    index = profile.intern(naming.shown(table[frameID], names: names))
                    state.index[Int(frameID)] = index
                }
                key.append(index)
            }
            tables[ObjectIdentifier(table)] = state
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

    /// What is known of one session frame table's frames, each judged and
    /// interned once however many stacks hold it.
    private struct TableState {
        struct Flags: OptionSet {
            let rawValue: UInt8
            static let judged = Flags(rawValue: 1)
            static let kept = Flags(rawValue: 2)
            static let python = Flags(rawValue: 4)
            static let glue = Flags(rawValue: 8)
        }
        let table: FrameTable
        /// Session frame id to profile index; -1 not interned yet.
        var index: [Int32] = []
        var flags: [Flags] = []
        /// The frames that are some stack's outermost Python frame.
        var outermostPython: Set<Int32> = []

        init(table: FrameTable) {
            self.table = table
        }

        mutating func grow() {
            guard index.count < table.frameCount else { return }
            index += repeatElement(-1, count: table.frameCount - index.count)
            flags += repeatElement([], count: table.frameCount - flags.count)
        }

        mutating func flags(of frameID: Int32, view: StackAggregator) -> Flags {
            if flags[Int(frameID)].contains(.judged) { return flags[Int(frameID)] }
            let frame = table[frameID]
            var judged: Flags = .judged
            if view.keeps(frame) { judged.insert(.kept) }
            if frame.kind == .python { judged.insert(.python) }
            if InterpreterGlue.isInterpreterCode(frame) { judged.insert(.glue) }
            flags[Int(frameID)] = judged
            return judged
        }
    }

    /// Records, or with a wall clock, sample-period equivalents.
    private func count(_ records: UInt64, _ nanoseconds: UInt64) -> UInt64 {
        guard let period = wallPeriodNanoseconds else { return records }
        return (nanoseconds + period / 2) / period
    }
}
