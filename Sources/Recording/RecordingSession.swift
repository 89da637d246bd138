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
        /// to one `[stack table full]` stack per process. About 0.5 KB each.
        public var maximumStacks = 200_000
        /// `.wall` adds every interval a thread spends off CPU to its
        /// on-CPU samples.
        public var clock: Clock = .cpu
        /// Only the off-CPU intervals, no on-CPU samples.
        public var offCPUOnly = false
        /// Called once sampling has begun, with the number of CPUs sampled.
        public var onStart: ((Int) -> Void)?
        /// What process frames show.
        public var processNames: ProcessNaming = .comm

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

        public var elapsedSeconds: Double { recording.durationSeconds }
        public var processesSeen: Int { recording.processCount }
    }

    public let options: Options
    private var sinks: [SampleSink] = []
    private let symbolizer = StackSymbolizer()
    private var python: PythonTracker!
    /// pid -> command line, with the comm it was read under.
    private var commandLines: [Int32: (comm: String, line: String)] = [:]
    private var unwinder: NativeUnwindTracker!
    private var pythonReport = PythonReport()
    /// Started when sampling starts: -d counts sampling time.
    private var clock = MonotonicClock()
    private var stacks: [RawStackKey: SymbolizedStack] = [:]
    private let frameTable = FrameTable()
    private var overflowStacks: [RawStackKey: SymbolizedStack] = [:]
    private var samplesPastStackLimit = 0
    /// Stacks with a Python frame that could not be named, tried again on
    /// their next samples.
    private var unnamedRetries: [RawStackKey: Int] = [:]
    private var malformedRecords = 0
    private var pidsSeen = Set<Int32>()
    /// Off-CPU stacks waiting for their interval's end, by tid.
    private var pendingOffCPU: [Int32: SymbolizedSample] = [:]
    private var timeByProcess: [Int32: ProcessTime] = [:]
    private var offCPUUnmatchedEnds = 0
    private var offCPUUnmatchedStarts = 0

    public init(options: Options) {
        self.options = options
    }

    /// Sinks added before `run` receive every sample, in the order added.
    public func add(_ sink: SampleSink) {
        sinks.append(sink)
    }

    public func run() throws -> Report {
        let explicitTargets = !options.pids.isEmpty || !options.command.isEmpty
        let filter = explicitTargets || !options.allProcesses
        var configuration = Sampler.Configuration(frequency: options.frequency, filterByPID: filter,
                                                  cpus: Sampler.onlineCPUs(),
                                                  unwindRowCapacity: options.unwindRowCapacity,
                                                  unwindPageCapacity: options.unwindPageCapacity,
                                                  samplesOnCPU: !options.offCPUOnly,
                                                  recordsOffCPU: options.offCPUOnly || options.clock == .wall)
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
            child = try SuspendedChild(arguments: options.command)
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
        clock = MonotonicClock()
        let start = (monotonic: MonotonicClock.nanoseconds(CLOCK_MONOTONIC),
                     unix: MonotonicClock.nanoseconds(CLOCK_REALTIME))
        options.onStart?(sampler.configuration.cpus.count)
        try child?.release()

        let status = options.showStatus ? StatusLine() : nil
        var commandExitStatus: Int32?
        while !pyro_stop_requested() {
            reader.poll(timeoutMilliseconds: 50)
            python.tick(now: clock.elapsed)
            python.evictRetired(now: clock.elapsed)
            symbolizer.evictRetired(now: clock.elapsed)
            for sink in sinks { sink.tick(elapsedSeconds: clock.elapsed) }
            if let limit = options.duration, clock.elapsed >= limit { break }
            if let exited = child?.exitStatusIfExited() {
                commandExitStatus = exited
                break
            }
            status?.update(elapsed: clock.elapsed, stats: sampler.stats(), processes: pidsSeen.count)
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
            sample.weightNanoseconds = stopNanoseconds > sample.timestampNanoseconds ? stopNanoseconds - sample.timestampNanoseconds : 0
            deliver(sample, pid: pending.stack.process.id ?? 0)
        }
        pendingOffCPU.removeAll()
        if pyro_stop_requested(), let child {
            let signal = pyro_stop_signal()
            commandExitStatus = child.stop(signal: signal == 0 ? SIGTERM : signal, forward: pyro_stop_signal_from_process(),
                                           grace: 0.5, impatient: { pyro_force_stop_requested() })
        }
        if commandExitStatus == nil, let child { commandExitStatus = child.exitStatusIfExited() }

        pythonReport.unsupported = python.unsupported
        pythonReport.startProbes = sampler.pythonStartProbes.count
        pythonReport.startsCaught = python.startsCaught
        pythonReport.startProbeFailures = python.startProbeFailures
        pythonReport.symbolizationFailures = python.evictedFailures
        for symbolizer in python.symbolizers {
            for (failure, count) in symbolizer.failures { pythonReport.symbolizationFailures[failure, default: 0] += count }
        }
        let recording = RecordingInfo(frequency: Int(options.frequency), startNanoseconds: start.monotonic,
                                      startUnixNanoseconds: start.unix,
                                      durationNanoseconds: UInt64(max(elapsed, 0) * 1e9),
                                      processCount: pidsSeen.count)
        return Report(recording: recording, stats: sampler.stats(), malformedRecords: malformedRecords,
                      commandExitStatus: commandExitStatus, kernelSymbolError: symbolizer.kernelSymbolError,
                      python: pythonReport, unwinding: unwinder.currentStatistics(),
                      mappingEventsAvailable: sampler.mappingEventsAvailable,
                      distinctStacks: stacks.count, samplesPastStackLimit: samplesPastStackLimit,
                      droppedAtStop: shutdown.dropped, timeByProcess: timeByProcess,
                      offCPUUnmatchedEnds: offCPUUnmatchedEnds, offCPUUnmatchedStarts: offCPUUnmatchedStarts,
                      offCPUOpenAtStop: openAtStop)
    }

    private func handle(_ record: RingBufferRecord) {
        switch record {
        case let .sample(sample):
            handle(sample)
        case let .processExit(pid):
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
            guard let pending = pendingOffCPU[tid], pending.timestampNanoseconds == start else {
                offCPUUnmatchedEnds += 1
                return
            }
            pendingOffCPU.removeValue(forKey: tid)
            var sample = pending
            sample.weightNanoseconds = end > start ? end - start : 0
            deliver(sample, pid: pending.stack.process.id ?? 0)
        case .malformed:
            malformedRecords += 1
        }
    }

    private func handle(_ sample: RawSample) {
        if pidsSeen.insert(sample.pid).inserted {
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
                                          weightNanoseconds: sample.weightNanoseconds)
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

    private func deliver(_ sample: SymbolizedSample, pid: Int32) {
        var time = timeByProcess[pid] ?? ProcessTime(comm: sample.stack.process.function)
        switch sample.origin {
        case .onCPU: time.onCPUNanoseconds += sample.weightNanoseconds
        case .offCPU: time.offCPUNanoseconds += sample.weightNanoseconds
        }
        timeByProcess[pid] = time
        for sink in sinks { sink.consume(sample) }
    }

    /// Named at first sight, while the process is surely alive; named again
    /// on its next few samples while a Python frame in it is unreadable.
    private func symbolizedStack(for sample: RawSample, python pythonSymbolizer: PythonSymbolizer?) -> SymbolizedStack {
        let key = RawStackKey(sample)
        let known = stacks[key]
        if let known, unnamedRetries[key].map({ $0 >= 3 }) ?? true { return known }
        if known == nil && stacks.count >= options.maximumStacks { return overflowStack(for: sample) }
        let frames = symbolizer.frames(for: sample, python: pythonSymbolizer)
        if frames.contains(where: { $0.annotation == .pythonFrameUnreadable }) {
            unnamedRetries[key, default: 0] += 1
        } else {
            unnamedRetries.removeValue(forKey: key)
        }
        if let known {
            known.rename(frames)
            return known
        }
        let stack = SymbolizedStack(id: stacks.count, process: .process(comm: processName(sample), pid: sample.pid),
                                    thread: .thread(name: sample.threadComm, tid: sample.tid), frames: frames,
                                    table: frameTable)
        stacks[key] = stack
        return stack
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
        let stack = SymbolizedStack(id: -1 - overflowStacks.count,
                                    process: .process(comm: processName(sample), pid: sample.pid),
                                    thread: .thread(name: sample.processComm, tid: sample.pid),
                                    frames: [.annotation(.stackTableFull)], table: frameTable)
        overflowStacks[key] = stack
        return stack
    }
}
