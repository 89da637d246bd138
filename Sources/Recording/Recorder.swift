import Aggregation
import BPFSampler
import CPyrograph
import Glibc

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
        public var aggregation = StackAggregator.Options()
        public var showStatus = false
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
    }

    public let options: Options
    private var aggregator: StackAggregator
    private let symbolizer = StackSymbolizer()
    private var rawCounts: [RawStackKey: UInt64] = [:]
    private var framesByKey: [RawStackKey: [Frame]] = [:]
    private var malformedRecords = 0
    private var pidsSeen = Set<Int32>()

    public init(options: Options) {
        self.options = options
        self.aggregator = StackAggregator(options: options.aggregation)
    }

    public func run() throws -> Result {
        let filter = !options.pids.isEmpty || !options.command.isEmpty
        let sampler = try Sampler(configuration: .init(frequency: options.frequency, filterByPID: filter,
                                                       cpus: Sampler.onlineCPUs()))
        for pid in options.pids { try sampler.addTarget(pid: pid) }
        let reader = try RingBufferReader(mapFD: sampler.eventsMapFD) { [unowned self] bytes in
            self.handle(RingBufferRecord(bytes))
        }
        var child: SuspendedChild?
        if !options.command.isEmpty {
            child = try SuspendedChild(arguments: options.command)
            try sampler.addTarget(pid: child!.pid)
        }
        pyro_install_stop_handlers()
        try sampler.attach()
        options.onStart?(sampler.configuration.cpus.count)
        try child?.release()

        let clock = MonotonicClock()
        let status = options.showStatus ? StatusLine() : nil
        var commandExitStatus: Int32?
        while !pyro_stop_requested() {
            reader.poll(timeoutMilliseconds: 100)
            if let limit = options.duration, clock.elapsed >= limit { break }
            if let exited = child?.exitStatusIfExited() {
                commandExitStatus = exited
                break
            }
            status?.update(elapsed: clock.elapsed, stats: sampler.stats(), processes: pidsSeen.count)
        }
        let elapsed = clock.elapsed
        sampler.detach()
        reader.drain()
        status?.finish()
        if commandExitStatus == nil, let child { commandExitStatus = child.exitStatusIfExited() }

        for (key, count) in rawCounts {
            let frames = framesByKey[key] ?? []
            aggregator.add(.init(process: .process(comm: key.processComm, pid: key.pid),
                                 thread: .thread(name: key.threadComm, tid: key.tid),
                                 frames: frames, count: count))
        }
        return Result(profile: aggregator.profile, stats: sampler.stats(), elapsedSeconds: elapsed,
                      processesSeen: pidsSeen.count, malformedRecords: malformedRecords,
                      commandExitStatus: commandExitStatus, kernelSymbolError: symbolizer.kernelSymbolError)
    }

    private func handle(_ record: RingBufferRecord) {
        switch record {
        case let .sample(sample):
            let key = RawStackKey(sample)
            if pidsSeen.insert(sample.pid).inserted { symbolizer.noteProcess(sample.pid) }
            if framesByKey[key] == nil {
                // Named at first sight, while the process is surely alive.
                framesByKey[key] = symbolizer.frames(for: sample)
            }
            rawCounts[key, default: 0] += 1
        case let .processExit(pid):
            symbolizer.processExited(pid)
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

    init(_ sample: RawSample) {
        pid = sample.pid
        tid = sample.tid
        processComm = sample.processComm
        threadComm = sample.threadComm
        kernelStack = sample.kernelStack
        userStack = sample.userStack
        userStackFailed = sample.userStackError != 0
    }
}
