import Aggregation
import BPFSampler
import CPyrograph
import Glibc
import ProcessInspection
import PythonRuntime

/// One recording: owns the sampler's lifecycle, the ring-buffer pump and
/// the trackers (interpreters, unwind tables), names each sample's stack and
/// hands every sample to the sinks. Runs until the duration ends, the
/// command exits or the user stops it.
public final class RecordingSession {
    public struct Options {
        public var frequency: UInt64 = 99
        /// Seconds; nil records until stopped (or until the command exits).
        public var duration: Double?
        /// Processes to profile; empty with no command means the whole host.
        public var pids: [Int32] = []
        /// A program to start and profile with its children.
        public var command: [String] = []
        /// Profile every process, not only Python ones.
        public var allProcesses = false
        public var showStatus = false
        /// Rows of compiled CFI the kernel may hold (16 bytes each); 0
        /// falls back to frame pointers everywhere.
        public var unwindRowCapacity: UInt32 = 1 << 21
        /// 8 bytes per 1 KiB of code: 512 MiB of code.
        public var unwindPageCapacity: UInt32 = 1 << 19
        /// Distinct stacks remembered at most; the samples of later ones go
        /// to one `[stack table full]` stack per process. About 160 bytes each,
        /// besides the frames and prefix nodes they add to the `FrameTable`.
        public var maximumStacks = 200_000
        /// Bytes the stacks and their frames may take at most, about (see
        /// `FrameTable.estimatedBytes`; 160 more per stack); past it new
        /// stacks go to `[stack table full]` as past `maximumStacks`, or
        /// with `retiresStacks` the session starts them afresh.
        public var maximumStackBytes = 64 << 20
        /// Past `maximumStackBytes`, hand every stack to the sinks for good
        /// (`SampleSink.stacksRetired`: the profile's sink sets them aside
        /// on disk) and name stacks afresh in a new table: memory stays
        /// flat however long the recording. `maximumStacks` still counts
        /// every stack named, across the turnovers.
        public var retiresStacks = false
        /// Seconds after which every stack is named afresh (a recording in
        /// windows: each window's profile holds its own stacks, and no table
        /// outlives a window); nil keeps them for the whole recording.
        public var forgetStacksEvery: Double?
        /// `.wall` adds every interval a thread spends off CPU to its
        /// on-CPU samples.
        public var clock: Clock = .cpu
        /// Only the off-CPU intervals, no on-CPU samples.
        public var offCPUOnly = false
        /// Read each Python record's GIL state: waiting gets its own frame.
        public var gil = false
        /// The probability of recording each switch-out; the kept intervals
        /// weigh 1/probability times their length.
        public var offCPUSampling: Double = 1
        /// Called once sampling has begun, with the number of CPUs sampled.
        public var onStart: ((Int) -> Void)?
        /// What process frames show.
        public var processNames: ProcessNaming = .comm
        /// The nice value of the `--` command: the one pyrograph was started
        /// with, if it raised its own (nil: pyrograph's current one).
        public var commandNice: Int32?
        /// Copy new code objects' naming bytes at sample time (the
        /// default). Off only to measure what the copy costs
        /// (`bench/code_capture_cost.py`): frames of code freed before the
        /// loader reads it are then unnamed.
        public var capturesCode = true

        public init() {}
    }

    public enum Clock: String, Sendable, CaseIterable {
        case cpu
        case wall
    }

    /// One process's time in the recording, as the sinks received it.
    public struct ProcessTime: Equatable {
        public var comm: String
        public var onCPUNanoseconds: UInt64 = 0
        public var offCPUNanoseconds: UInt64 = 0
        /// `--gil`: time of Python threads holding the GIL, running or
        /// sleeping with it released, and waiting for it.
        public var gilHeldNanoseconds: UInt64 = 0
        public var gilReleasedNanoseconds: UInt64 = 0
        public var gilWaitingNanoseconds: UInt64 = 0
    }

    /// What the recording saw, besides the samples the sinks received.
    public struct Report {
        public var recording: RecordingInfo
        public var stats: SamplerStats
        public var malformedRecords: Int
        /// The started command's exit status (or 128 + signal), if any.
        public var commandExitStatus: Int32?
        public var kernelSymbolError: String?
        public var python: PythonReport
        public var unwinding: NativeUnwindTracker.Statistics
        /// Whether the kernel reported new code mappings (see Sampler).
        public var mappingEventsAvailable: Bool
        /// Distinct stacks named, and samples that went to an overflow stack
        /// because there were already `maximumStacks`.
        public var distinctStacks: Int
        public var samplesPastStackLimit: Int
        /// The stacks reached `maximumStackBytes` (rather than, or before,
        /// `maximumStacks`).
        public var stackMemoryFull: Bool
        /// Records left in the ring buffer at stop and discarded unread.
        public var droppedAtStop: Int
        /// Per process, on-CPU and off-CPU time.
        public var timeByProcess: [Int32: ProcessTime]
        /// Off-CPU records that could not be joined: an end without its
        /// stacks (lost, or sent before the recording), stacks replaced by
        /// the same thread's next before their end came.
        public var offCPUUnmatchedEnds: Int
        public var offCPUUnmatchedStarts: Int
        /// Intervals still open at stop, counted up to the stop.
        public var offCPUOpenAtStop: Int
        /// Threads that slept through the whole recording, each counted for
        /// its whole length (see SilentThreads).
        public var silentThreads: Int = 0
        /// The recording ended because every -p process and its children had exited.
        public var targetsExited = false
        /// The command started with `--`, when the recording ended (-d) while
        /// it still ran: it is left running, not stopped.
        public var commandLeftRunning: Int32?

        public var elapsedSeconds: Double { recording.durationSeconds }
        public var processesSeen: Int { recording.processCount }
    }

    public let options: Options
    private var sinks: [SampleSink] = []
    /// Set when `run` returns, until `releaseStartProbes`.
    private var samplerWithStartProbes: Sampler?
    private let symbolizer = StackSymbolizer()
    private var python: PythonTracker!
    private let threadNaming = PythonThreadNaming()
    /// pid -> command line, with the comm it was read under.
    private var commandLines: [Int32: (comm: String, line: String)] = [:]
    private var unwinder: NativeUnwindTracker!
    private var pythonReport = PythonReport()
    /// Started when sampling starts: -d counts sampling time.
    private var clock = MonotonicClock()
    private var stacks = KnownStacks()
    private var frameTable = FrameTable()
    private var overflowStacks: [RawStackKey: SymbolizedStack] = [:]
    private var overflowStacksNamed = 0
    private var samplesPastStackLimit = 0
    private var stackMemoryFull = false
    private var malformedRecords = 0
    /// Processes sampled and not yet exited long enough to forget.
    private var pidsSeen = Set<Int32>()
    private var processCount = 0
    private var exitedPIDs = RetiredProcesses<Int32>()
    /// When the stack tables were last started afresh (`forgetStacksEvery`).
    private var stackGeneration = 0
    /// Off-CPU stacks waiting for their interval's end, by tid.
    private var pendingOffCPU: [Int32: SymbolizedSample] = [:]
    private var timeByProcess: [Int32: ProcessTime] = [:]
    private var offCPUUnmatchedEnds = 0
    private var offCPUUnmatchedStarts = 0
    private var silentThreads = SilentThreads()

    public init(options: Options) {
        self.options = options
    }

    /// Sinks added before `run` receive every sample, in the order added.
    public func add(_ sink: SampleSink) {
        sinks.append(sink)
    }

    public func run() throws -> Report {
        // Before any thread of the session starts.
        pyro_share_one_malloc_arena()
        pyro_reserve_descriptors(8192)
        symbolizer.preloadKernelSymbols()
        let explicitTargets = !options.pids.isEmpty || !options.command.isEmpty
        let filter = explicitTargets || !options.allProcesses
        var configuration = Sampler.Configuration(frequency: options.frequency, filterByPID: filter,
                                                  cpus: Sampler.onlineCPUs(),
                                                  unwindRowCapacity: options.unwindRowCapacity,
                                                  unwindPageCapacity: options.unwindPageCapacity,
                                                  samplesOnCPU: !options.offCPUOnly,
                                                  recordsOffCPU: options.offCPUOnly || options.clock == .wall,
                                                  tracksGIL: options.gil)
        configuration.offCPUSamplingProbability = options.offCPUSampling
        configuration.pythonStartsAreTargets = !explicitTargets && !options.allProcesses
        let sampler = try Sampler(configuration: configuration)
        unwinder = NativeUnwindTracker(sampler: sampler)
        for pid in options.pids { try sampler.addTarget(pid: pid) }
        // -p PID is the process and all its descendants, the existing ones
        // too (a pre-fork server's workers); later ones follow by the fork hook.
        let existingDescendants = ProcessAncestry.descendants(of: Set(options.pids))
        for pid in existingDescendants { try? sampler.addTarget(pid: pid) }
        python = PythonTracker(maps: sampler, targetsPython: !explicitTargets && !options.allProcesses,
                               excluding: [getpid()])
        python.capturesCode = options.capturesCode
        // Tables are compiled off the sampling path; processes named with -p
        // get theirs before sampling starts, so their first samples unwind too.
        python.onDetected = { [unowned self] pid in self.unwinder.prepare(pid) }
        if options.pids.isEmpty && options.command.isEmpty {
            python.scanAll()
        } else {
            python.inspect(pids: options.pids + existingDescendants)
        }
        for pid in options.pids + existingDescendants { unwinder.prepareNow(pid) }
        let reader = try RingBufferReader(mapFD: sampler.eventsMapFD) { [unowned self] bytes in
            self.handle(RingBufferRecord(bytes))
        }
        var child: SuspendedChild?
        if !options.command.isEmpty {
            child = try SuspendedChild(arguments: options.command,
                                       nice: options.commandNice ?? OwnPriority.unchanged().original)
            try sampler.addTarget(pid: child!.pid)
        }
        if explicitTargets {
            let roots = Set(options.pids + [child?.pid].compactMap { $0 })
            python.wants = { [unowned self] pid in
                self.pidsSeen.contains(pid) || ProcessAncestry.descends(pid, fromAnyOf: roots.union(self.pidsSeen))
            }
        }
        pyro_install_stop_handlers()
        try sampler.attach()
        // Children forked between the scan above and the fork hook's attach.
        let lateDescendants = ProcessAncestry.descendants(of: Set(options.pids)).filter { !existingDescendants.contains($0) }
        for pid in lateDescendants { try? sampler.addTarget(pid: pid) }
        python.inspect(pids: lateDescendants)
        let recordsOffCPU = options.offCPUOnly || options.clock == .wall
        if recordsOffCPU && filter {
            silentThreads.note(options.pids + existingDescendants + lateDescendants
                + (explicitTargets ? [] : python.symbolizers.map(\.process.pid)))
        }
        clock = MonotonicClock()
        let start = (monotonic: MonotonicClock.nanoseconds(CLOCK_MONOTONIC),
                     unix: MonotonicClock.nanoseconds(CLOCK_REALTIME))
        for sink in sinks { sink.recordingStarted(monotonicNanoseconds: start.monotonic, unixNanoseconds: start.unix) }
        options.onStart?(sampler.configuration.cpus.count)
        try child?.release()

        let status = options.showStatus ? StatusLine() : nil
        var commandExitStatus: Int32?
        var targetsExited = false
        var targetsCheckedAt = 0.0
        while !pyro_stop_requested() {
            // An exec retry due sooner than the usual 50 ms wakes the loop for it.
            let nextCheck = python.secondsUntilNextCheck(now: clock.elapsed).map { Int32(($0 * 1000).rounded(.up)) }
            reader.poll(timeoutMilliseconds: min(50, max(1, nextCheck ?? 50)))
            python.tick(now: clock.elapsed)
            python.evictRetired(now: clock.elapsed)
            symbolizer.evictRetired(now: clock.elapsed)
            evictRetired(now: clock.elapsed)
            for case let sink as LiveStatusSink in sinks {
                sink.update(LiveStatus(stats: sampler.stats(), processesSeen: pidsSeen.count))
            }
            for sink in sinks { sink.tick(elapsedSeconds: clock.elapsed) }
            if let limit = options.duration, clock.elapsed >= limit { break }
            if let exited = child?.exitStatusIfExited() {
                commandExitStatus = exited
                break
            }
            // -p alone: nothing is left to record once every target and
            // every child it forked has exited (a pid added just after its
            // exit stays in the set, so each is checked).
            if child == nil, !options.pids.isEmpty, clock.elapsed - targetsCheckedAt >= 0.5 {
                targetsCheckedAt = clock.elapsed
                let alive = sampler.targetPIDs().contains { pid in
                    ProcessStatus(pid: pid).map { !$0.isZombie } ?? false
                }
                if !alive {
                    targetsExited = true
                    break
                }
            }
            status?.update(elapsed: clock.elapsed, stats: sampler.stats(), processes: processCount)
        }
        let elapsed = clock.elapsed
        let stopNanoseconds = MonotonicClock.nanoseconds(CLOCK_MONOTONIC)
        sampler.detach()
        unwinder.abandonQueuedWork()
        // Bounded: stopping takes well under a second even with a backlog.
        let shutdown = reader.drainAtStop(within: 0.25, abandonIf: { pyro_force_stop_requested() })
        status?.finish()
        // Threads still off CPU at stop waited until then.
        let openAtStop = pendingOffCPU.count
        for (_, pending) in pendingOffCPU.sorted(by: { $0.key < $1.key }) {
            var sample = pending
            sample.weightNanoseconds = offCPUWeight(stopNanoseconds > sample.timestampNanoseconds
                ? stopNanoseconds - sample.timestampNanoseconds : 0)
            deliver(sample, pid: pending.stack.process.id ?? 0)
        }
        pendingOffCPU.removeAll()
        let silent = recordsOffCPU ? silentThreads.silent() : []
        for (index, thread) in silent.enumerated() {
            let comms = silentThreads.comms(pid: thread.pid, tid: thread.tid)
            let stack = SymbolizedStack(id: Int(Int32.max) + index, process: .process(comm: comms.process, pid: thread.pid),
                                        thread: .thread(name: comms.thread, tid: thread.tid),
                                        frames: silentThreads.frames(pid: thread.pid, tid: thread.tid), table: frameTable)
            deliver(SymbolizedSample(stack: stack, timestampNanoseconds: start.monotonic, cpu: 0, origin: .offCPU,
                                     weightNanoseconds: stopNanoseconds > start.monotonic ? stopNanoseconds - start.monotonic : 0),
                    pid: thread.pid)
        }
        if pyro_stop_requested(), let child {
            let signal = pyro_stop_signal()
            commandExitStatus = child.stop(signal: signal == 0 ? SIGTERM : signal, forward: pyro_stop_signal_from_process(),
                                           grace: 0.5, impatient: { pyro_force_stop_requested() })
        }
        if commandExitStatus == nil, let child { commandExitStatus = child.exitStatusIfExited() }
        let commandLeftRunning = commandExitStatus == nil ? child?.pid : nil
        samplerWithStartProbes = sampler
        OwnPriority.reapply()

        pythonReport.unsupported = python.unsupportedSummary
        pythonReport.startProbes = sampler.pythonStartProbes.count
        pythonReport.startsCaught = python.startsCaught
        pythonReport.codeObjectsCaptured = python.codeObjectsCaptured
        pythonReport.startProbeFailures = python.startProbeFailures
        pythonReport.symbolizationFailures = python.evictedFailures
        for symbolizer in python.symbolizers {
            for (failure, count) in symbolizer.failures { pythonReport.symbolizationFailures[failure, default: 0] += count }
        }
        let recording = RecordingInfo(frequency: Int(options.frequency), startNanoseconds: start.monotonic,
                                      startUnixNanoseconds: start.unix,
                                      durationNanoseconds: UInt64(max(elapsed, 0) * 1e9),
                                      processCount: processCount)
        return Report(recording: recording, stats: sampler.stats(), malformedRecords: malformedRecords,
                      commandExitStatus: commandExitStatus, kernelSymbolError: symbolizer.kernelSymbolError,
                      python: pythonReport, unwinding: unwinder.currentStatistics(),
                      mappingEventsAvailable: sampler.mappingEventsAvailable,
                      distinctStacks: stacks.namedInRecording, samplesPastStackLimit: samplesPastStackLimit, stackMemoryFull: stackMemoryFull,
                      droppedAtStop: shutdown.dropped, timeByProcess: timeByProcess,
                      offCPUUnmatchedEnds: offCPUUnmatchedEnds, offCPUUnmatchedStarts: offCPUUnmatchedStarts,
                      offCPUOpenAtStop: openAtStop, silentThreads: silent.count, targetsExited: targetsExited,
                      commandLeftRunning: commandLeftRunning)
    }

    /// Releases the start probes, which `run` leaves attached (they only
    /// name new processes for a reader that no longer reads). Call it once
    /// the output is written: the release forks a helper to wait out the
    /// kernel (`Sampler.releaseStartProbes`), and every page of pyrograph's
    /// heap is then shared with it copy-on-write, so building a large
    /// profile after it copied them (page faults were a fifth of the build).
    /// After the command's processes are gone, too: the helper is a child.
    public func releaseStartProbes() {
        samplerWithStartProbes?.releaseStartProbes()
        samplerWithStartProbes = nil
    }

    private func handle(_ record: RingBufferRecord) {
        switch record {
        case let .sample(sample):
            handle(sample)
        case let .processExit(pid):
            stacks.processExited(pid, now: clock.elapsed)
            if pidsSeen.contains(pid) { exitedPIDs.retire(pid, pid, now: clock.elapsed) }
            symbolizer.processExited(pid, now: clock.elapsed)
            python.processExited(pid, now: clock.elapsed)
            unwinder.processExited(pid)
        case let .processExec(pid):
            python.processExec(pid, now: clock.elapsed)
        case let .pythonStarted(pid):
            python.processStarted(pid, now: clock.elapsed)
        case let .codeCaptured(pid, capture):
            python.codeCaptured(pid, capture)
        case let .mappingAdded(pid):
            unwinder.mappingAdded(pid)
            symbolizer.mappingsChanged(pid)
        case let .offCPUEnd(tid, start, end):
            silentThreads.heard(tid)
            guard let pending = pendingOffCPU[tid], pending.timestampNanoseconds == start else {
                offCPUUnmatchedEnds += 1
                return
            }
            pendingOffCPU.removeValue(forKey: tid)
            var sample = pending
            sample.weightNanoseconds = offCPUWeight(end > start ? end - start : 0)
            deliver(sample, pid: pending.stack.process.id ?? 0)
        case .malformed:
            malformedRecords += 1
        }
    }

    private func handle(_ sample: RawSample) {
        silentThreads.heard(sample.tid)
        if pidsSeen.insert(sample.pid).inserted {
            processCount += 1
            symbolizer.noteProcess(sample.pid)
            unwinder.prepare(sample.pid)
        }
        if sample.nativeStatus == PYRO_NATIVE_NO_MAPPING {
            unwinder.mappingsChanged(sample.pid)
            symbolizer.mappingsChanged(sample.pid)
        }
        let pythonSymbolizer = python.symbolizer(for: sample.pid, sampleHasPython: !sample.pythonFrames.isEmpty)
        let stack = symbolizedStack(for: sample, python: pythonSymbolizer)
        let symbolized = SymbolizedSample(stack: stack, timestampNanoseconds: sample.timestampNanoseconds,
                                          cpu: sample.cpu, origin: sample.origin,
                                          weightNanoseconds: sample.weightNanoseconds, gil: sample.gil)
        if sample.origin == .offCPU {
            // Weighed when the thread comes back on CPU.
            if pendingOffCPU.updateValue(symbolized, forKey: sample.tid) != nil { offCPUUnmatchedStarts += 1 }
        } else {
            deliver(symbolized, pid: sample.pid)
        }
        if let process = pythonSymbolizer?.process {
            pythonReport.record(sample, process: process, complete: stack.hasCompletePython)
        }
    }

    /// A kept interval stands for 1/probability intervals like it: the
    /// expected total is the true one.
    private func offCPUWeight(_ nanoseconds: UInt64) -> UInt64 {
        options.offCPUSampling >= 1 ? nanoseconds : UInt64((Double(nanoseconds) / options.offCPUSampling).rounded())
    }

    private func deliver(_ sample: SymbolizedSample, pid: Int32) {
        // Only a wall-clock or GIL summary shows it: a CPU recording of days
        // keeps nothing per process it has seen.
        if options.clock == .wall || options.offCPUOnly || options.gil {
            var time = timeByProcess[pid] ?? ProcessTime(comm: sample.stack.process.function)
            // The latest name: a `--` command's first records can predate its exec.
            time.comm = sample.stack.process.function
            switch sample.origin {
            case .onCPU: time.onCPUNanoseconds += sample.weightNanoseconds
            case .offCPU: time.offCPUNanoseconds += sample.weightNanoseconds
            }
            // The stack knows better than the kernel's guess (see StackSymbolizer.waitsForGIL).
            switch sample.stack.waitsForGIL ? .waiting : sample.gil {
            case .held: time.gilHeldNanoseconds += sample.weightNanoseconds
            case .released: time.gilReleasedNanoseconds += sample.weightNanoseconds
            case .waiting: time.gilWaitingNanoseconds += sample.weightNanoseconds
            case nil: break
            }
            timeByProcess[pid] = time
        }
        for sink in sinks { sink.consume(sample) }
    }

    /// Named at first sight, while the process is surely alive; named again
    /// on its next few samples while a Python frame in it is unreadable.
    private func symbolizedStack(for sample: RawSample, python pythonSymbolizer: PythonSymbolizer?) -> SymbolizedStack {
        let key = RawStackKey(sample)
        let known = stacks[key]
        if let known, known.unnamedTries == 0 || known.unnamedTries >= 3 { return known.stack }
        if known == nil && stacks.named >= options.maximumStacks { return overflowStack(for: sample) }
        if known == nil && frameTable.estimatedBytes + 160 * stacks.held >= options.maximumStackBytes {
            guard options.retiresStacks else {
                stackMemoryFull = true
                return overflowStack(for: sample)
            }
            retireStacks()
        }
        let frames = symbolizer.frames(for: sample, python: pythonSymbolizer)
        let unnamed = frames.contains(where: { $0.annotation == .pythonFrameUnreadable })
        if let known {
            known.stack.rename(frames)
            stacks[key]!.unnamedTries = unnamed ? known.unnamedTries + 1 : 0
            return known.stack
        }
        // Counted by the store: --max-stacks and the memory ceiling above
        // go by its count. Overflow stacks take the negative ids.
        let stack = SymbolizedStack(id: stacks.nextID(), process: .process(comm: processName(sample), pid: sample.pid),
                                    thread: .thread(name: threadNaming.name(pid: sample.pid, tid: sample.tid, python: pythonSymbolizer)
                                                        ?? sample.threadComm, tid: sample.tid), frames: frames,
                                    table: frameTable)
        stacks[key] = KnownStacks.Entry(stack: stack, unnamedTries: unnamed ? 1 : 0)
        return stack
    }

    /// Exited processes are forgotten once their last records are read; with
    /// `forgetStacksEvery`, every stack is named afresh now and then, so a
    /// recording of days keeps one period's stacks and frames, not all.
    private func evictRetired(now: Double) {
        stacks.evictRetired(now: now)
        for pid in exitedPIDs.evict(now: now) {
            pidsSeen.remove(pid)
            commandLines.removeValue(forKey: pid)
            pythonReport.forget(pid)
            threadNaming.forget(pid)
        }
        guard let period = options.forgetStacksEvery, period > 0 else { return }
        let generation = Int(now / period)
        if generation != stackGeneration {
            stackGeneration = generation
            stacks.forgetAll()
            overflowStacks.removeAll()
            frameTable = FrameTable()
        }
    }

    /// `retiresStacks`: the stacks and frames named so far go to the sinks
    /// for good (`SampleSink.stacksRetired`), and naming starts afresh with
    /// an empty table, so the session's memory stays under the budget
    /// however long it records.
    private func retireStacks() {
        stacks.forgetKeys()
        overflowStacks.removeAll()
        frameTable = FrameTable()
        for sink in sinks { sink.stacksRetired() }
        // The old tables are freed in the middle of the heap, where malloc
        // keeps them: hand the pages back (as a finished window does).
        pyro_release_free_memory()
    }

    /// The process frame's text: its comm, or (`--process-names cmdline`)
    /// its command line, read at its first sample while it lives; after
    /// an exec, the new program's.
    private func processName(_ sample: RawSample) -> String {
        guard options.processNames == .cmdline else { return sample.processComm }
        if let known = commandLines[sample.pid], known.comm == sample.processComm { return known.line }
        let line = ProcessNaming.commandLine(of: sample.pid) ?? sample.processComm
        commandLines[sample.pid] = (sample.processComm, line)
        return line
    }

    /// Past the limit, a process's new stacks share one stack that says so:
    /// the samples and their time are kept, the detail is not.
    private func overflowStack(for sample: RawSample) -> SymbolizedStack {
        samplesPastStackLimit += 1
        let key = RawStackKey(overflowOf: sample.pid)
        if let known = overflowStacks[key] { return known }
        overflowStacksNamed += 1
        let stack = SymbolizedStack(id: -overflowStacksNamed,
                                    process: .process(comm: processName(sample), pid: sample.pid),
                                    thread: .thread(name: sample.processComm, tid: sample.pid),
                                    frames: [.annotation(.stackTableFull)], table: frameTable)
        overflowStacks[key] = stack
        return stack
    }
}
