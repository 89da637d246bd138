import Aggregation
import Glibc

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

    /// A distinct stack's counts, and the stack: the session's object while
    /// the session may still rename it, then (`retireStacks`) only its ids
    /// in its frame table, which free the 80-byte object and fit in the
    /// reference's place: 32 bytes a stack.
    private struct Totals {
        var stack: StackReference
        var samples: UInt64 = 0
        var nanoseconds: UInt64 = 0
    }

    private enum StackReference {
        case live(SymbolizedStack)
        /// The node, process and thread frames, and the table's index in
        /// `retiredTables`.
        case retired(node: Int32, process: Int32, thread: Int32, table: UInt16)
    }

    /// A stack as the profile is built from it.
    private struct StackIDs {
        var table: FrameTable
        var node: Int32
        var process: Int32
        var thread: Int32
    }

    private let options: StackAggregator.Options
    /// The sampling period in nanoseconds when the profile is in wall time.
    private let wallPeriodNanoseconds: UInt64?
    /// One per distinct stack, in the order first consumed.
    private var entries: [Totals] = []
    private var slots = SlotsByStackID()
    /// With `keepsTimeline`; its slots index `entries`.
    private var timeline: SampleTimeline?
    /// The frame tables of retired stacks (one, but for a window whose
    /// stacks span a table turned over).
    private var retiredTables: [FrameTable] = []
    private var nextRetirement = 0.0
    /// Where `stacksRetired` sets the stacks aside; nil keeps them all here.
    private let spill: StackSpillFile?
    /// Stacks in each chunk of `spill`, in order: a timeline entry of a
    /// stack set aside says which by its place in all of them.
    private var spilledStacks: [Int] = []
    /// What the stacks set aside teach `PythonFileNames`: the stop shortens
    /// every part's file names by what all of them show.
    private var spilledScriptDirectories: Set<String> = []
    /// Why the last stacks could not be set aside, or read back at the
    /// stop; after the first, the sink keeps its stacks in memory.
    public private(set) var spillFailure: StackSpillFile.Failure?
    /// Thread keys of the timeline's entries set aside (see `SampleTimeline.Entry.thread`).
    private var nextSpilledThreadKey = Int32.min

    /// The most entries the timeline keeps by default: 1.6 MB, and a trace
    /// that writes in well under a second at the stop. At 100,000 the
    /// soak's chrome trace (entries of 40-frame stacks that change from
    /// sample to sample, 2.7 KB each) was 274 MB and its stop 0.87-0.95 s.
    public static let defaultTimelineCeiling = 50_000

    /// `wallPeriodNanoseconds`: build a wall-clock profile (see above) at this
    /// sampling period; nil counts records, as a CPU profile does.
    /// `timelineCeiling`: with `keepsTimeline`, the entries the timeline
    /// keeps at most (see `SampleTimeline`), at least 2. `spill`: where
    /// `stacksRetired` sets the stacks aside (nil: they stay in memory).
    public init(options: StackAggregator.Options = .init(), keepsTimeline: Bool = false,
                timelineCeiling: Int = ProfileSink.defaultTimelineCeiling, wallPeriodNanoseconds: UInt64? = nil,
                spill: StackSpillFile? = nil) {
        self.options = options
        self.spill = spill
        self.wallPeriodNanoseconds = wallPeriodNanoseconds.map { max($0, 1) }
        if keepsTimeline { timeline = SampleTimeline(ceiling: timelineCeiling) }
    }

    /// Samples each timeline entry takes at most: 1 while the timeline is
    /// under its ceiling, then 2, 4, ... (see `SampleTimeline`).
    public var timelineSamplesPerEntry: Int { Int(timeline?.samplesPerEntry ?? 1) }

    public func consume(_ sample: SymbolizedSample) {
        let slot: Int32
        if let known = slots[sample.stack.id] {
            slot = known
        } else {
            slot = Int32(entries.count)
            slots.set(slot, for: sample.stack.id)
            entries.append(Totals(stack: .live(sample.stack)))
        }
        entries[Int(slot)].samples += 1
        entries[Int(slot)].nanoseconds += sample.weightNanoseconds
        timeline?.append(slot: slot, thread: sample.stack.threadFrameID, cpu: sample.cpu,
                         timestampNanoseconds: sample.timestampNanoseconds, weightNanoseconds: sample.weightNanoseconds)
    }

    /// About once a second, stacks the session no longer holds (their
    /// process exited, so nothing renames them) keep only their ids: a long
    /// recording of short-lived processes adds a stack or more for each.
    public func tick(elapsedSeconds: Double) {
        guard elapsedSeconds >= nextRetirement else { return }
        nextRetirement = elapsedSeconds + 1
        retireStacks()
    }

    /// Drops the stack objects only this sink holds. Kept `internal` for
    /// the tests that weigh what it frees.
    func retireStacks() {
        for slot in entries.indices {
            guard case .live(var stack) = entries[slot].stack else { continue }
            // The entry's reference set aside, `stack` is the only one unless
            // the session still holds the stack.
            entries[slot].stack = .retired(node: -1, process: -1, thread: -1, table: 0)
            guard isKnownUniquelyReferenced(&stack) else {
                entries[slot].stack = .live(stack)
                continue
            }
            let table = stack.frameTable
            var index = retiredTables.lastIndex { $0 === table }
            if index == nil, retiredTables.count <= Int(UInt16.max) {
                retiredTables.append(table)
                index = retiredTables.count - 1
            }
            guard let index else {
                entries[slot].stack = .live(stack)
                continue
            }
            entries[slot].stack = .retired(node: stack.nodeID, process: stack.processFrameID, thread: stack.threadFrameID,
                                           table: UInt16(index))
        }
    }

    /// The session started its stacks afresh (`RecordingSession.Options.retiresStacks`):
    /// every stack here is final. They are written to the spill file as a
    /// profile of the raw view and forgotten, so the sink's memory and the
    /// frame tables they held go; the stop merges them back. The timeline
    /// stays, its entries pointing at the stacks set aside.
    public func stacksRetired() {
        guard let spill, spillFailure == nil, !entries.isEmpty else { return }
        var directories: [String] = []
        let (part, indexOfSlot) = build(naming: .unchanged) { shown in
            directories = shown
            return Profile(sampleTypes: sampleTypes)
        }
        do {
            try spill.append(ProfileArchive.encoded(part))
        } catch {
            spillFailure = error as? StackSpillFile.Failure ?? .cannotWrite(errno: EIO)
            return
        }
        let base = spilledStacks.reduce(0, +)
        spilledStacks.append(part.stacks.count)
        spilledScriptDirectories.formUnion(directories)
        var threadKeys: [Int32: Int32] = [:]
        timeline?.renumberSlots({ slot in
            let index = indexOfSlot[Int(slot)]
            return index < 0 ? .min : Int32(truncatingIfNeeded: -1 - (base + index))
        }, threads: { thread in
            if let key = threadKeys[thread] { return key }
            // Past the keys' room (2^30 threads set aside) two may share one.
            let key = nextSpilledThreadKey
            if nextSpilledThreadKey < -(1 << 30) { nextSpilledThreadKey += 1 }
            threadKeys[thread] = key
            return key
        })
        entries = []
        slots = SlotsByStackID()
        retiredTables = []
    }

    /// Chunks the spill file holds, and their bytes.
    public var spilledChunks: Int { spilledStacks.count }
    public var spilledBytes: Int { spill?.bytesWritten ?? 0 }

    private func ids(of entry: Totals) -> StackIDs {
        switch entry.stack {
        case let .live(stack):
            return StackIDs(table: stack.frameTable, node: stack.nodeID, process: stack.processFrameID, thread: stack.threadFrameID)
        case let .retired(node, process, thread, table):
            return StackIDs(table: retiredTables[Int(table)], node: node, process: process, thread: thread)
        }
    }

    /// The profile of everything consumed so far, as `naming` shows it:
    /// what `naming.apply(to: profile(recording:))` gives, built in one
    /// pass. Each distinct frame of the session's tables is judged by the
    /// aggregator's view, renamed and interned once, and so is each process
    /// and thread frame; a stack then costs its integer ids. The stop of a
    /// recording waits for this: 92,000 stacks took 0.63 s before the
    /// stacks' kept frames went into one buffer and the per-stack hashing of
    /// process frames, sorting and dictionary moves went away.
    ///
    /// With stacks set aside, each chunk is read back in turn and its
    /// stacks added to the profile as `naming` shows them (file names
    /// shortened by the script directories of all the parts), then the
    /// sink's own stacks. A second thread reads, decodes and shows chunk
    /// i+1 while this one adds chunk i (`Prefetch`, `ViewedPart`): the
    /// stop holds the profile and two chunks, not a raw copy of the whole.
    /// In wall time each stack's sample count is made from its nanoseconds
    /// at the end (`countWallSamples`).
    public func profile(recording: RecordingInfo?, naming: ProfileView = .unchanged) -> Profile {
        guard let spill, !spilledStacks.isEmpty else {
            var (profile, indexOfSlot) = build(naming: naming) { _ in Profile(sampleTypes: sampleTypes) }
            appendTimeline(to: &profile) { slot in slot >= 0 ? indexOfSlot[Int(slot)] : -1 }
            profile.recording = recording
            profile.sortTimeline()
            countWallSamples(&profile)
            return profile
        }
        // The stacks set aside first, then the sink's own added to the same
        // profile: merging two profiles re-hashed every frame and stack of
        // the second, a tenth of a 30-minute recording's stop.
        var spilledIndex: [Int] = []
        var (whole, indexOfSlot) = build(naming: naming, scriptDirectories: Array(spilledScriptDirectories)) { directories in
            let names = naming.fullFileNames ? nil
                : PythonFileNames(scriptDirectories: spilledScriptDirectories.union(directories))
            // Each chunk is read, decoded and shown on a second thread while
            // this one adds the chunk before to the profile.
            var shown = ShownFrames(view: naming, names: names)
            let valuesPerStack = sampleTypes.count
            let parts = Prefetch(count: spilledStacks.count) { chunk in
                do {
                    return ViewedPart(archive: try spill.chunk(chunk), valuesPerStack: valuesPerStack, shownBy: &shown)
                } catch {
                    var unread = ViewedPart(valuesPerStack: valuesPerStack)
                    unread.failure = error
                    return unread
                }
            }
            // Room for every stack, so the profile's index of stacks is not
            // rehashed (each stack's frames visited again) as it grows.
            var whole = Profile(sampleTypes: sampleTypes)
            whole.reserveCapacity(stacks: spilledStacks.reduce(0, +) + entries.count)
            var viewer = ProfileViewer(view: naming, into: whole)
            for stackCount in spilledStacks {
                let part = parts.next()
                let placed = viewer.add(part)
                // What was read before a failure stays; the rest of the chunk is missing.
                if let failure = part.failure { spillFailure = failure as? StackSpillFile.Failure ?? .cannotRead(errno: EIO) }
                spilledIndex += placed.prefix(stackCount)
                spilledIndex += repeatElement(-1, count: max(0, stackCount - placed.count))
                parts.giveBack(part)
            }
            return viewer.profile
        }
        appendTimeline(to: &whole) { slot in
            if slot >= 0 { return indexOfSlot[Int(slot)] }
            let spilled = -1 - Int(slot)
            return slot == .min || spilled >= spilledIndex.count ? -1 : spilledIndex[spilled]
        }
        whole.recording = recording
        whole.sortTimeline()
        countWallSamples(&whole)
        return whole
    }

    /// A wall-clock profile's samples, each stack's counted from its
    /// nanoseconds once: counted per stack as the sink holds it, a shown
    /// stack made of several (glue removed, parts set aside) could gain a
    /// sample from each one's rounding.
    private func countWallSamples(_ profile: inout Profile) {
        guard wallPeriodNanoseconds != nil else { return }
        profile.setValues(ofType: 0) { count(0, $0.values[1]) }
    }

    private var sampleTypes: [SampleType] { wallPeriodNanoseconds == nil ? Self.sampleTypes : Self.wallSampleTypes }

    /// The timeline's entries, each on the profile's stack `stackOf` gives
    /// for its slot (-1: none, the entry is left out).
    private func appendTimeline(to profile: inout Profile, stackOf: (Int32) -> Int) {
        for entry in timeline?.entries ?? [] {
            let stack = stackOf(entry.slot)
            guard stack >= 0 else { continue }
            profile.appendTimeline(.init(stack: stack, timestampNanoseconds: entry.timestampNanoseconds, cpu: entry.cpu,
                                         values: [count(UInt64(entry.samples), entry.weightNanoseconds), entry.weightNanoseconds]))
        }
    }

    /// The stacks in the sink, as `naming` shows them, added in one pass to
    /// the profile `start` gives once it knows the script directories the
    /// sink's stacks show, with file names shortened by those and
    /// `scriptDirectories`; and each slot's stack in it (-1: none).
    private func build(naming: ProfileView, scriptDirectories: [String] = [],
                       start: (_ scriptDirectories: [String]) -> Profile) -> (Profile, indexOfSlot: [Int]) {
        let view = StackAggregator(options: options)
        var kept: [Int32] = []
        kept.reserveCapacity(entries.count * 64)
        // First each stack's frames that the aggregator keeps, into one
        // buffer, and the distinct outermost Python frames, which say
        // where the scripts lie.
        var tables = TableStates()
        var ends: [Int] = []
        ends.reserveCapacity(entries.count)
        var path: [Int32] = []
        // The stacks' ids, read once: the second pass does not touch the
        // stack objects again.
        var stackIDs: [StackIDs] = []
        stackIDs.reserveCapacity(entries.count)
        for entry in entries {
            let stack = ids(of: entry)
            stackIDs.append(stack)
            let state = tables.state(for: stack.table)
            path.removeAll(keepingCapacity: true)
            stack.table.appendFrameIDs(of: stack.node, to: &path)
            var outermostFound = false
            for frameID in path {
                let flags = state.flags(of: frameID, view: view)
                guard flags.contains(.kept) else { continue }
                if !outermostFound && flags.contains(.python) {
                    state.outermostPython.insert(frameID)
                    outermostFound = true
                }
                kept.append(frameID)
            }
            ends.append(kept.count)
        }
        let learned = PythonFileNames(outermostPythonFrames: tables.all.flatMap { state in
            state.outermostPython.map { state.table[$0] }
        })
        var profile = start(learned.scriptDirectories)
        profile.reserveCapacity(stacks: profile.stacks.count + entries.count,
                                frames: profile.frames.count + tables.all.reduce(0) { $0 + $1.table.frameCount })
        let names = naming.fullFileNames ? nil : scriptDirectories.isEmpty ? learned
            : PythonFileNames(scriptDirectories: learned.scriptDirectories + scriptDirectories)
        var shownFrames = ShownFrames(view: naming, names: names)
        var profileIndexOfSlot: [Int] = []
        profileIndexOfSlot.reserveCapacity(entries.count)
        var key: [Int32] = []
        var start = 0
        for (slot, entry) in entries.enumerated() {
            let stack = stackIDs[slot]
            let state = tables.state(for: stack.table)
            let frames = kept[start..<ends[slot]]
            start = ends[slot]
            // Glue: the interpreter's native frames strictly between the
            // outermost and the innermost Python frame (InterpreterGlue).
            var outer = frames.endIndex, inner = frames.startIndex - 1
            if !naming.interpreterFrames {
                outer = frames.firstIndex { state.flags[Int($0)].contains(.python) } ?? frames.endIndex
                inner = frames.lastIndex { state.flags[Int($0)].contains(.python) } ?? frames.startIndex - 1
            }
            key.removeAll(keepingCapacity: true)
            key.append(state.index(ofProcess: stack.process, in: &profile) {
                var process = stack.table[stack.process]
                if options.mergeProcesses { process.id = nil }
                return shownFrames.shown(process)
            })
            if options.perThread {
                key.append(state.index(ofThread: stack.thread, in: &profile) { shownFrames.shown(stack.table[stack.thread]) })
            }
            for position in frames.indices {
                let frameID = frames[position]
                if position > outer && position < inner && state.flags[Int(frameID)].contains(.glue) { continue }
                var index = state.index[Int(frameID)]
                if index < 0 {
                    index = profile.intern(shownFrames.shown(state.table[frameID]))
                    state.index[Int(frameID)] = index
                }
                key.append(index)
            }
            let added = profile.add(frameIndices: key, values: [count(entry.samples, entry.nanoseconds), entry.nanoseconds])
            profileIndexOfSlot.append(added ?? -1)
        }
        return (profile, profileIndexOfSlot)
    }

    /// Each stack's slot in `entries`. The session numbers its stacks 0, 1,
    /// 2, ... as it meets them, so from the first id a sink sees the ids
    /// index an array: 4 bytes a stack where a dictionary entry took about
    /// 30, and a long recording of short-lived processes has a stack or
    /// more for each. Ids below the first or far past the last (overflow
    /// and silent-thread stacks) go in a dictionary.
    private struct SlotsByStackID {
        private var first: Int?
        private var dense: [Int32] = []
        private var sparse: [Int: Int32] = [:]

        subscript(id: Int) -> Int32? {
            if let first, id >= first, id - first < dense.count, dense[id - first] >= 0 { return dense[id - first] }
            return sparse.isEmpty ? nil : sparse[id]
        }

        /// For an id without a slot yet.
        mutating func set(_ slot: Int32, for id: Int) {
            if first == nil, id >= 0 { first = id }
            guard let first, id >= first, id - first < dense.count + 4096 else {
                sparse[id] = slot
                return
            }
            if id - first >= dense.count { dense += repeatElement(-1, count: id - first - dense.count + 1) }
            dense[id - first] = slot
        }
    }

    /// The states of the session's frame tables (one, but for a window
    /// whose stacks span a table turned over), the last one asked for at
    /// hand without a lookup.
    private struct TableStates {
        private var byTable: [ObjectIdentifier: TableState] = [:]
        private var last: TableState?

        var all: [TableState] { Array(byTable.values) }

        mutating func state(for table: FrameTable) -> TableState {
            if let last, last.table === table {
                last.grow()
                return last
            }
            let state = byTable[ObjectIdentifier(table)] ?? TableState(table: table)
            byTable[ObjectIdentifier(table)] = state
            state.grow()
            last = state
            return state
        }
    }

    /// What is known of one session frame table's frames, each judged and
    /// interned once however many stacks hold it.
    private final class TableState {
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
        /// Process and thread frames (kept beside the tables' paths) to
        /// profile index.
        private var processIndex: [Int32: Int32] = [:]
        private var interpreterModules: [String: Bool] = [:]
        private var threadIndex: [Int32: Int32] = [:]

        init(table: FrameTable) {
            self.table = table
        }

        func grow() {
            guard index.count < table.frameCount else { return }
            index += repeatElement(-1, count: table.frameCount - index.count)
            flags += repeatElement([], count: table.frameCount - flags.count)
        }

        func flags(of frameID: Int32, view: StackAggregator) -> Flags {
            if flags[Int(frameID)].contains(.judged) { return flags[Int(frameID)] }
            let frame = table[frameID]
            var judged: Flags = .judged
            if view.keeps(frame) { judged.insert(.kept) }
            if frame.kind == .python { judged.insert(.python) }
            if frame.kind == .native, let module = frame.module {
                // Per module, not per frame: thousands of functions share one.
                let isInterpreter = interpreterModules[module] ?? InterpreterGlue.isInterpreterCode(frame)
                interpreterModules[module] = isInterpreter
                if isInterpreter { judged.insert(.glue) }
            }
            flags[Int(frameID)] = judged
            return judged
        }

        func index(ofProcess frameID: Int32, in profile: inout Profile, shown: () -> Frame) -> Int32 {
            if let known = processIndex[frameID] { return known }
            let index = profile.intern(shown())
            processIndex[frameID] = index
            return index
        }

        func index(ofThread frameID: Int32, in profile: inout Profile, shown: () -> Frame) -> Int32 {
            if let known = threadIndex[frameID] { return known }
            let index = profile.intern(shown())
            threadIndex[frameID] = index
            return index
        }
    }

    /// Records, or with a wall clock, sample-period equivalents.
    private func count(_ records: UInt64, _ nanoseconds: UInt64) -> UInt64 {
        guard let period = wallPeriodNanoseconds else { return records }
        return (nanoseconds + period / 2) / period
    }
}
