import Aggregation
import BPFSampler
import CPyrograph
import Glibc
import ProcessInspection
import PythonRuntime

/// One recording: loads the sampler, optionally starts the command to
/// profile, reads samples until the duration ends, the command exits or
/// the user stops it, and returns the aggregated profile.
public final class Recorder {
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
        public var aggregation = StackAggregator.Options()
        public var showStatus = false
        /// Rows of compiled CFI the kernel may hold (16 bytes each); 0
        /// falls back to frame pointers everywhere.
        public var unwindRowCapacity: UInt32 = 1 << 21
        /// 8 bytes per 1 KiB of code: 512 MiB of code.
        public var unwindPageCapacity: UInt32 = 1 << 19
        /// Called once sampling has begun, with the number of CPUs sampled.
        public var onStart: ((Int) -> Void)?

        public init() {}
    }

    public struct Result {
        public var profile: Profile
        public var stats: SamplerStats
        public var elapsedSeconds: Double
        public var processesSeen: Int
        public var malformedRecords: Int
        /// The started command's exit status (or 128 + signal), if any.
        public var commandExitStatus: Int32?
        public var kernelSymbolError: String?
        public var python: PythonReport
        public var unwinding: NativeUnwindTracker.Statistics
        /// Whether the kernel reported new code mappings (see Sampler).
        public var mappingEventsAvailable: Bool
        /// Records left in the ring buffer at stop and discarded unread.
        public var droppedAtStop = 0
    }

    public let options: Options
    private var aggregator: StackAggregator
    private let symbolizer = StackSymbolizer()
    private var python: PythonTracker!
    private var unwinder: NativeUnwindTracker!
    private var pythonReport = PythonReport()
    /// Started when sampling starts: -d counts sampling time.
    private var clock = MonotonicClock()
    private var rawCounts: [RawStackKey: UInt64] = [:]
    private var framesByKey: [RawStackKey: [Frame]] = [:]
    /// Stacks with a Python frame that could not be named, tried again on
    /// their next samples.
    private var unnamedRetries: [RawStackKey: Int] = [:]
    private var malformedRecords = 0
    private var pidsSeen = Set<Int32>()

    public init(options: Options) {
        self.options = options
        self.aggregator = StackAggregator(options: options.aggregation)
    }

    public func run() throws -> Result {
        let explicitTargets = !options.pids.isEmpty || !options.command.isEmpty
        let filter = explicitTargets || !options.allProcesses
        let sampler = try Sampler(configuration: .init(frequency: options.frequency, filterByPID: filter,
                                                       cpus: Sampler.onlineCPUs(),
                                                       unwindRowCapacity: options.unwindRowCapacity,
                                                       unwindPageCapacity: options.unwindPageCapacity))
        unwinder = NativeUnwindTracker(sampler: sampler)
        for pid in options.pids { try sampler.addTarget(pid: pid) }
        python = PythonTracker(sampler: sampler, targetsPython: !explicitTargets && !options.allProcesses,
                               excluding: [getpid()])
        // Tables are compiled off the sampling path; processes named with -p
        // get theirs before sampling starts, so their first samples unwind too.
        python.onDetected = { [unowned self] pid in self.unwinder.prepare(pid) }
        if options.pids.isEmpty && options.command.isEmpty {
            python.scanAll()
        } else {
            python.inspect(pids: options.pids)
        }
        for pid in options.pids { unwinder.prepareNow(pid) }
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
        clock = MonotonicClock()
        options.onStart?(sampler.configuration.cpus.count)
        try child?.release()

        let status = options.showStatus ? StatusLine() : nil
        var commandExitStatus: Int32?
        while !pyro_stop_requested() {
            reader.poll(timeoutMilliseconds: 50)
            python.tick(now: clock.elapsed)
            if let limit = options.duration, clock.elapsed >= limit { break }
            if let exited = child?.exitStatusIfExited() {
                commandExitStatus = exited
                break
            }
            status?.update(elapsed: clock.elapsed, stats: sampler.stats(), processes: pidsSeen.count)
        }
        let elapsed = clock.elapsed
        sampler.detach()
        unwinder.abandonQueuedWork()
        // Bounded: stopping takes well under a second even with a backlog.
        let shutdown = reader.drainAtStop(within: 0.25, abandonIf: { pyro_force_stop_requested() })
        status?.finish()
        if pyro_stop_requested(), let child {
            let signal = pyro_stop_signal()
            commandExitStatus = child.stop(signal: signal == 0 ? SIGTERM : signal, forward: pyro_stop_signal_from_process(),
                                           grace: 0.5, impatient: { pyro_force_stop_requested() })
        }
        if commandExitStatus == nil, let child { commandExitStatus = child.exitStatusIfExited() }

        for (key, count) in rawCounts {
            let frames = framesByKey[key] ?? []
            aggregator.add(.init(process: .process(comm: key.processComm, pid: key.pid),
                                 thread: .thread(name: key.threadComm, tid: key.tid),
                                 frames: frames, count: count))
        }
        pythonReport.unsupported = python.unsupported
        for symbolizer in python.symbolizers {
            for (failure, count) in symbolizer.failures { pythonReport.symbolizationFailures[failure, default: 0] += count }
        }
        return Result(profile: aggregator.profile, stats: sampler.stats(), elapsedSeconds: elapsed,
                      processesSeen: pidsSeen.count, malformedRecords: malformedRecords,
                      commandExitStatus: commandExitStatus, kernelSymbolError: symbolizer.kernelSymbolError,
                      python: pythonReport, unwinding: unwinder.currentStatistics(),
                      mappingEventsAvailable: sampler.mappingEventsAvailable, droppedAtStop: shutdown.dropped)
    }

    private func handle(_ record: RingBufferRecord) {
        switch record {
        case let .sample(sample):
            let key = RawStackKey(sample)
            if pidsSeen.insert(sample.pid).inserted {
                symbolizer.noteProcess(sample.pid)
                unwinder.prepare(sample.pid)
            }
            if sample.nativeStatus == PYRO_NATIVE_NO_MAPPING {
                unwinder.mappingsChanged(sample.pid)
                symbolizer.mappingsChanged(sample.pid)
            }
            let pythonSymbolizer = python.symbolizer(for: sample.pid, sampleHasPython: !sample.pythonFrames.isEmpty)
            if framesByKey[key] == nil || (unnamedRetries[key].map { $0 < 3 } ?? false) {
                // Named at first sight, while the process is surely alive.
                let frames = symbolizer.frames(for: sample, python: pythonSymbolizer)
                framesByKey[key] = frames
                if frames.contains(where: { $0.name == "[python frame unreadable]" }) {
                    unnamedRetries[key, default: 0] += 1
                } else {
                    unnamedRetries.removeValue(forKey: key)
                }
            }
            rawCounts[key, default: 0] += 1
            if let process = pythonSymbolizer?.process {
                pythonReport.record(sample, process: process, complete: framesByKey[key]?.isCompletePython ?? false)
            }
        case let .processExit(pid):
            symbolizer.processExited(pid)
            python.processExited(pid)
            unwinder.processExited(pid)
        case let .processExec(pid):
            python.processExec(pid, now: clock.elapsed)
        case let .mappingAdded(pid):
            unwinder.mappingAdded(pid)
            symbolizer.mappingsChanged(pid)
        case .malformed:
            malformedRecords += 1
        }
    }
}

/// What makes two samples the same stack before symbolization.
struct RawStackKey: Hashable {
    var pid: Int32
    var tid: Int32
    var processComm: String
    var threadComm: String
    var kernelStack: [UInt64]
    var userStack: [UInt64]
    var userStackFailed: Bool
    var pythonStatus: UInt32
    var pythonFrames: [PythonFrameRecord]

    init(_ sample: RawSample) {
        pid = sample.pid
        tid = sample.tid
        processComm = sample.processComm
        threadComm = sample.threadComm
        kernelStack = sample.kernelStack
        userStack = sample.userStack
        userStackFailed = sample.userStackError != 0
        pythonStatus = sample.pythonStatus.rawValue
        pythonFrames = sample.pythonFrames
    }
}
