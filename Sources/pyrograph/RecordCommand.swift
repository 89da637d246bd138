import Aggregation
import Foundation
import ArgumentParser
import BPFSampler
import CPyrograph
import Glibc
import Output
import PythonRuntime
import ProcessInspection
import Recording

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Sample stacks and write a flame graph or folded stacks.",
        discussion: """
        With no -p and no COMMAND, every process on the host is sampled. Recording \
        stops after -d SECONDS, when COMMAND exits, or on Ctrl-C or SIGTERM; the \
        profile is written in every case.

        Frames are named:  COMM (PID) for the process, THREAD (TID) with --threads, \
        symbol [module] for native code, symbol_[k] for the kernel, and \
        module+0xOFFSET where no symbol covers an address.
        """
    )

    @OptionGroup var target: TargetOptions

    @OptionGroup(title: "Names") var naming: NamingOptions

    @Option(name: [.customShort("d"), .long],
            help: ArgumentHelp("Stop after this many seconds (default: until Ctrl-C or COMMAND exits). "
                               + "A COMMAND still running when the time is up is left running.", valueName: "SECONDS"))
    var duration: Double?

    @Option(name: [.customShort("o"), .long],
            help: ArgumentHelp("Where to write the profile: a file (replaced only once the profile is complete), "
                               + "a device, a FIFO or pipe, or - for stdout.", valueName: "FILE"))
    var output: String = "profile.svg"

    @Option(name: [.customShort("f"), .long],
            help: ArgumentHelp("Output format: \(ProfileFormat.allCases.map(\.rawValue).joined(separator: " or ")) "
                + "(default: from FILE's extension, else svg).", valueName: "FORMAT"))
    var format: ProfileFormat?

    @Flag(help: "Add a THREAD (TID) frame under each process (always on for speedscope and chrome; tid and thread labels in pprof).")
    var threads = false

    @Flag(name: .customLong("python-only"), help: "Show only Python frames, like py-spy: hide native and kernel frames.")
    var pythonOnly = false

    @Flag(name: .customLong("no-kernel"), help: "Hide kernel frames.")
    var noKernel = false

    @Option(name: .customLong("max-stacks"),
            help: ArgumentHelp("Distinct stacks the profile holds at most; samples of later ones are counted under a "
                + "[stack table full] frame per process. A stack met again after stacks were set aside (see "
                + "--max-stack-memory) counts again.", valueName: "N"))
    var maximumStacks: Int = 200_000

    @Option(name: .customLong("max-stack-memory"),
            help: ArgumentHelp("Megabytes the distinct stacks and their frames may take in memory, about. Past it they "
                + "are set aside in a temporary file without a name (in $TMPDIR, else /var/tmp, else /tmp; gone when "
                + "pyrograph exits) and merged into the profile at the stop, so memory stays flat however long the "
                + "recording; if no file can be written they stay in memory, and the summary says so.",
                               valueName: "MB"))
    var maximumStackMegabytes: Int = 8

    @Option(name: .customLong("max-timeline"),
            help: ArgumentHelp("Chrome and speedscope: samples the timeline keeps one by one (32 bytes each). When it "
                + "fills, each thread's consecutive samples are merged in pairs, and again each time it fills: the whole "
                + "recording stays on the timeline, coarser, with each thread's time exact; the summary says how coarse.",
                               valueName: "N"))
    var maximumTimeline: Int = ProfileSink.defaultTimelineCeiling

    @Flag(name: .customLong("merge-processes"),
          help: "One root frame per command (COMM) instead of per process: a pool of workers reads as one tower.")
    var mergeProcesses = false

    @Option(name: .customLong("process-names"),
            help: ArgumentHelp("What process frames show: comm (the kernel's 15-character name) or cmdline (the "
                               + "command line, read at the process's first sample, control characters as spaces, "
                               + "cut at 160 characters), which tells ten python3 workers apart.",
                               valueName: "comm|cmdline"))
    var processNames: ProcessNaming = .comm

    @Option(help: ArgumentHelp("cpu: where threads run (on-CPU samples only). wall: where they spend their time, "
                               + "on CPU or waiting: each interval a thread spends off CPU weighs what rate × its length "
                               + "on-CPU samples weigh, under an [off-cpu: ...] frame that says what it waited in.",
                               valueName: "cpu|wall"))
    var clock: RecordingSession.Clock = .cpu

    @Flag(name: .customLong("off-cpu"), help: "Record only the intervals threads spend off CPU (an off-CPU flame graph).")
    var offCPUOnly = false

    @Option(name: .customLong("off-cpu-sampling"),
            help: ArgumentHelp("With --clock wall or --off-cpu: record each switch off CPU with this probability "
                + "(0 < P <= 1, default 1). Capturing the stacks is the cost of a switch; a kept interval weighs 1/P "
                + "times its length, so totals stay unbiased while switch-heavy programs pay P of the cost.",
                               valueName: "P"))
    var offCPUSampling: Double = 1

    @Flag(help: ArgumentHelp("Tell, for each Python thread's sample (or interval off CPU), whether it holds the GIL, "
                             + "runs with it released or waits for it. Waiting gets its own [waiting for the GIL] frame "
                             + "under the Python frame that asked for it; the summary gives each process's GIL time. "
                             + "With --clock wall the waits themselves are weighed (CPU-only profiles show little waiting). "
                             + "Every CPython with a GIL (2.7 and 3.6 tell waiting from the interpreter's symbols)."))
    var gil = false

    @Flag(help: "Also print a report of the top functions to stdout (see `pyrograph report`).")
    var report = false

    @Option(help: ArgumentHelp("Write one profile every SECONDS until stopped, each to the file that -o names for "
                               + "its window's start: -o must hold a strftime pattern, such as "
                               + "'profiles/profile-%Y%m%dT%H%M%S.svg'. Each sample is in exactly one window, by its "
                               + "time; a window that cannot be written is reported and recording goes on.",
                               valueName: "SECONDS"))
    var interval: Double?

    func validate() throws {
        guard maximumStackMegabytes >= 1 else {
            throw ValidationError("--max-stack-memory \(maximumStackMegabytes): at least 1 MB")
        }
        guard maximumTimeline >= 2 else {
            throw ValidationError("--max-timeline \(maximumTimeline): at least 2 samples")
        }
        guard maximumStacks >= 1 else {
            throw ValidationError("--max-stacks \(maximumStacks): at least one stack")
        }
        if let interval, !(interval >= 1 && interval.isFinite) {
            throw ValidationError("--interval \(interval): at least 1 second")
        }
        if interval != nil && report {
            throw ValidationError("--report prints one report at the end: it does not go with --interval")
        }
        if !(offCPUSampling > 0 && offCPUSampling <= 1) {
            throw ValidationError("--off-cpu-sampling \(offCPUSampling): a probability in (0, 1]")
        }
        if offCPUSampling < 1 && clock != .wall && !offCPUOnly {
            throw ValidationError("--off-cpu-sampling needs --clock wall or --off-cpu: CPU profiles record no switches")
        }
        if let duration, !(duration > 0 && duration.isFinite) {
            throw ValidationError("-d \(duration): the duration must be a positive number of seconds")
        }
    }

    func run() throws {
        // However it ends: see OwnPriority.reapply.
        defer { OwnPriority.reapply() }
        guard geteuid() == 0 else {
            throw CLIError("pyrograph needs root to load BPF programs and read other processes: run it with sudo")
        }
        try target.checkTargetsExist()
        // One descriptor per profiled process (its memory): a host with a
        // thousand Pythons needs more than the usual soft limit of 1024.
        var files = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &files) == 0, files.rlim_cur < files.rlim_max {
            files.rlim_cur = files.rlim_max
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &files)
        }
        let resolvedFormat = ProfileFormat.resolve(named: format, path: output)
        let windows = try interval.map { try IntervalOutput(pattern: output, format: resolvedFormat, view: naming.view, intervalSeconds: $0) }
        try windows?.checkWritable(startingAt: Double(time(nil)))
        let file = windows == nil ? try OutputFile(path: output) : nil

        let (priority, priorityRefusal) = try target.applyPriority()
        var options = RecordingSession.Options()
        options.commandNice = priority.original
        options.frequency = UInt64(target.frequency)
        options.duration = duration
        options.maximumStacks = maximumStacks
        options.maximumStackBytes = maximumStackMegabytes << 20
        options.retiresStacks = true
        options.pids = target.pids
        options.command = target.command
        options.allProcesses = target.all
        options.showStatus = isatty(STDERR_FILENO) != 0
        options.clock = clock
        options.processNames = processNames
        options.offCPUOnly = offCPUOnly
        options.forgetStacksEvery = interval
        options.gil = gil
        options.offCPUSampling = offCPUSampling
        // Not an option: only bench/code_capture_cost.py turns the capture
        // off, to measure what it costs against what it names.
        options.capturesCode = getenv("PYROGRAPH_NO_CODE_CAPTURE") == nil
        let inWallTime = clock == .wall || offCPUOnly
        let scope = target.scopeDescription
        let frequency = target.frequency
        let what = offCPUOnly ? "the off-CPU intervals of \(scope)" : "\(scope) at \(frequency) Hz"
        options.onStart = { cpus in
            fputs("pyrograph: recording \(what) on \(cpus) CPUs; Ctrl-C to stop\n", stderr)
        }
        let session = RecordingSession(options: options)
        let view = StackAggregator.Options(perThread: threads || resolvedFormat.showsThreads, includeKernel: !noKernel && !pythonOnly,
                                           includeNative: !pythonOnly, mergeProcesses: mergeProcesses)
        let wallPeriod = inWallTime ? 1_000_000_000 / UInt64(target.frequency) : nil
        let makeSink = {
            ProfileSink(options: view, keepsTimeline: resolvedFormat.needsTimeline, timelineCeiling: maximumTimeline,
                        wallPeriodNanoseconds: wallPeriod, spill: StackSpillFile())
        }
        if let windows, let interval {
            return try recordWindows(session, every: interval, to: windows, makeSink: makeSink, priorityRefusal: priorityRefusal)
        }
        let sink = makeSink()
        session.add(sink)
        let report = try session.run()
        // Once the profile is written (see releaseStartProbes), on every way out.
        defer { session.releaseStartProbes() }
        let profile = sink.profile(recording: report.recording, naming: naming.view)
        // Freed by the exit, all at once: freeing a large recording's
        // stacks one by one only delays the stop.
        KeptUntilExit.isEnabled = true
        KeptUntilExit.keep((session, sink, profile))
        try resolvedFormat.writer().write(profile, to: file!)
        try file!.commit()
        var wrote = "wrote \(output) (\(resolvedFormat.rawValue))"
        if sink.timelineSamplesPerEntry > 1 {
            wrote += "\n  timeline past --max-timeline \(maximumTimeline): up to \(sink.timelineSamplesPerEntry) consecutive "
                + "samples of a thread merged per entry (\(profile.timeline?.count ?? 0) entries; the thread's time is exact)"
        }
        wrote += spillSummary(chunks: sink.spilledChunks, bytes: sink.spilledBytes,
                              failures: sink.spillFailure.map { [$0] } ?? [])
        printSummary(report, samples: profile.totalSamples, wrote: wrote, priorityRefusal: priorityRefusal)
        if self.report {
            let stdout = try OutputFile(path: "-")
            try ReportWriter().write(profile, to: stdout)
            try stdout.commit()
        }
        if let status = report.commandExitStatus, status != 0 {
            throw ExitCode(status)
        }
    }

    /// --interval: a profile per window, written as the recording goes.
    private func recordWindows(_ session: RecordingSession, every interval: Double, to windows: IntervalOutput,
                               makeSink: @escaping () -> ProfileSink, priorityRefusal: String?) throws {
        let info = RecordingInfo(frequency: target.frequency, startNanoseconds: 0, startUnixNanoseconds: 0,
                                 durationNanoseconds: 0, processCount: 0)
        let sink = WindowedProfileSink(lengthSeconds: interval, recording: info, naming: windows.view, makeSink: makeSink,
                                       onWindow: windows.write)
        session.add(sink)
        let report = try session.run()
        defer { session.releaseStartProbes() }
        sink.finish(elapsedSeconds: report.elapsedSeconds)
        var wrote = "wrote \(windows.written.count) profiles (\(windows.format.rawValue))"
        if let first = windows.written.first, let last = windows.written.last { wrote += ": \(first) ... \(last)" }
        if sink.lateSamples > 0 {
            wrote += "\n  samples read after their window was written: \(sink.lateSamples) (not counted)"
        }
        if sink.coarsenedTimelines > 0 {
            wrote += "\n  timeline past --max-timeline \(maximumTimeline) in \(sink.coarsenedTimelines) windows: up to "
                + "\(sink.mostTimelineSamplesPerEntry) consecutive samples of a thread merged per entry (the thread's time is exact)"
        }
        wrote += spillSummary(chunks: sink.spilledChunks, bytes: sink.spilledBytes, failures: sink.spillFailures)
        if windows.failed > 0 { wrote += "\n  windows not written: \(windows.failed) (see above)" }
        printSummary(report, samples: UInt64(sink.samplesConsumed), wrote: wrote, priorityRefusal: priorityRefusal)
        if windows.failed > 0 { throw ExitCode(1) }
        if let status = report.commandExitStatus, status != 0 { throw ExitCode(status) }
    }

    /// What was set aside past --max-stack-memory, and what went wrong.
    private func spillSummary(chunks: Int, bytes: Int, failures: [StackSpillFile.Failure]) -> String {
        var text = ""
        if chunks > 0 {
            text += "\n  stacks set aside past --max-stack-memory \(maximumStackMegabytes) MB: \(chunks == 1 ? "once" : "\(chunks) times"), "
                + "\(DecimalText.tenths(Double(bytes) / 1_048_576)) MB in a temporary file, merged into the profile"
        }
        for failure in failures {
            switch failure {
            case let .cannotCreate(directory, error):
                text += "\n  stacks not set aside (kept in memory): no temporary file in \(directory): \(String(cString: strerror(error)))"
            case let .cannotWrite(error):
                text += "\n  stacks not set aside (kept in memory): the temporary file: \(String(cString: strerror(error)))"
            case let .cannotRead(error):
                text += "\n  stacks set aside could not be read back, their samples are missing: \(String(cString: strerror(error)))"
            }
        }
        return text
    }

    private func printSummary(_ result: RecordingSession.Report, samples: UInt64, wrote: String, priorityRefusal: String?) {
        let stats = result.stats
        var lines: [String] = []
        lines.append("pyrograph: \(samples) samples from \(result.processesSeen) processes "
            + "in \(DecimalText.tenths(result.elapsedSeconds)) s" + (offCPUOnly ? " (off-CPU intervals)" : " at \(target.frequency) Hz"))
        if result.targetsExited {
            lines.append("  stopped: every process given with -p (and its children) has exited")
        }
        if let pid = result.commandLeftRunning {
            lines.append("  the command (pid \(pid)) is still running: -d ended the recording, not the command")
        }
        var lost = "  lost samples: \(stats.lost)"
        if stats.lost > 0 { lost += " (ring buffer full: the reader fell behind; try a lower -F)" }
        lines.append(lost)
        if let priorityRefusal {
            lines.append("  priority not raised: \(priorityRefusal)")
        }
        if result.droppedAtStop > 0 {
            lines.append("  samples dropped at stop: \(result.droppedAtStop) (still queued when the time to drain ran out)")
        }
        if stats.kernelStackErrors + stats.userStackErrors > 0 {
            lines.append("  stacks not captured: kernel \(stats.kernelStackErrors), user \(stats.userStackErrors)")
        }
        if result.samplesPastStackLimit > 0 {
            let ceiling = result.stackMemoryFull ? "--max-stack-memory \(maximumStackMegabytes) MB" : "--max-stacks \(maximumStacks)"
            lines.append("  stacks past \(ceiling): \(result.samplesPastStackLimit) samples "
                + "counted under [stack table full]")
        }
        if result.malformedRecords > 0 {
            lines.append("  malformed records: \(result.malformedRecords)")
        }
        if let error = result.kernelSymbolError {
            lines.append("  kernel frames are unnamed: \(error)")
        }
        if clock == .wall || offCPUOnly {
            lines.append(contentsOf: timeSummary(result))
        }
        if gil { lines.append(contentsOf: gilSummary(result)) }
        lines.append(contentsOf: pythonSummary(result.python, stats: stats))
        let unwinding = result.unwinding
        if unwinding.processes > 0 {
            let bytes = unwinding.rows * MemoryLayout<pyro_unwind_row>.stride
                + unwinding.pages * MemoryLayout<pyro_unwind_page>.stride
            let megabytes = Double(bytes) / 1_048_576
            lines.append("  native unwinding: CFI tables for \(unwinding.processes) processes, \(unwinding.files) files, "
                + "\(unwinding.rows) rows (\(DecimalText.tenths(megabytes)) MB)"
                + (unwinding.filesEvicted > 0 ? "; \(unwinding.filesEvicted) unused tables evicted for room" : "")
                + (unwinding.tableFull ? "; the table is full, later files use frame pointers" : ""))
            let unknownPCs = "\(unwinding.reloadsFromUnknownPCs) for unknown pcs"
            if !result.mappingEventsAvailable {
                lines.append("  maps re-read: \(unknownPCs) (no mapping events from this kernel)")
            } else if unwinding.mappingEvents + unwinding.reloadsFromUnknownPCs > 0 {
                lines.append("  maps re-read: \(unwinding.reloadsFromEvents) for mapping events "
                    + "(\(unwinding.mappingEvents) events), \(unknownPCs)")
            }
            let stops = [("pc outside known mappings", stats.unwindNoMapping), ("no CFI", stats.unwindNoCFI),
                         ("read fault", stats.unwindReadFault), ("depth", stats.unwindDepth),
                         ("unsupported rule", stats.unwindUnsupportedRule)].filter { $0.1 > 0 }
            if !stops.isEmpty {
                lines.append("  native walks cut short: " + stops.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
            }
        }
        if samples == 0 {
            lines.append(target.namesTargets || target.all
                ? "  warning: no samples were recorded: the profiled processes did not run on a CPU while sampling"
                : "  warning: no samples were recorded: no Python process ran on a CPU while sampling (--all profiles every process)")
        }
        lines.append("  " + wrote)
        fputs(lines.joined(separator: "\n") + "\n", stderr)
    }

    /// On- and off-CPU time per process, and the off-CPU intervals lost.
    private func timeSummary(_ result: RecordingSession.Report) -> [String] {
        let stats = result.stats
        var lines = ["  off-CPU intervals: \(stats.offCPUIntervals) ended, \(result.offCPUOpenAtStop) open at stop (counted to the stop)"]
        let lostInKernel = stats.offCPULostRingBufferFull + stats.offCPUUntracked
        let unmatched = result.offCPUUnmatchedEnds + result.offCPUUnmatchedStarts
        if stats.offCPUSampledOut > 0 {
            lines.append("  off-CPU switches sampled out: \(stats.offCPUSampledOut) (--off-cpu-sampling \(offCPUSampling): "
                + "each kept interval weighs \(DecimalText.tenths(1 / offCPUSampling))×)")
        }
        if lostInKernel + UInt64(unmatched) > 0 {
            lines.append("  off-CPU intervals lost: ring buffer full \(stats.offCPULostRingBufferFull), start map full "
                + "\(stats.offCPUUntracked), ends without stacks \(result.offCPUUnmatchedEnds), stacks without an end "
                + "\(result.offCPUUnmatchedStarts)")
        }
        if result.silentThreads > 0 {
            lines.append("  threads asleep for the whole recording: \(result.silentThreads) (each counted for all of it, "
                + "with its kernel stack)")
        }
        func seconds(_ nanoseconds: UInt64) -> String { DecimalText.tenths(Double(nanoseconds) / 1e9) }
        let processes = result.timeByProcess.sorted {
            ($0.value.onCPUNanoseconds + $0.value.offCPUNanoseconds, $1.key) > ($1.value.onCPUNanoseconds + $1.value.offCPUNanoseconds, $0.key)
        }
        for (pid, time) in processes.prefix(20) {
            lines.append("  \(UntrustedText.escaped(time.comm)) (\(pid)): on CPU \(seconds(time.onCPUNanoseconds)) s, "
                + "off CPU \(seconds(time.offCPUNanoseconds)) s (thread-seconds)")
        }
        if processes.count > 20 { lines.append("  ... and \(processes.count - 20) more processes") }
        return lines
    }

    /// `--gil`: per process, the Python threads' time holding the GIL,
    /// with it released, and waiting for it.
    private func gilSummary(_ result: RecordingSession.Report) -> [String] {
        func seconds(_ nanoseconds: UInt64) -> String { DecimalText.tenths(Double(nanoseconds) / 1e9) }
        let processes = result.timeByProcess.filter {
            $0.value.gilHeldNanoseconds + $0.value.gilReleasedNanoseconds + $0.value.gilWaitingNanoseconds > 0
        }.sorted { ($0.value.gilWaitingNanoseconds, $1.key) > ($1.value.gilWaitingNanoseconds, $0.key) }
        var lines: [String] = []
        if processes.isEmpty { lines.append("  GIL: no Python thread's GIL state was read") }
        for (pid, time) in processes.prefix(20) {
            lines.append("  GIL in \(UntrustedText.escaped(time.comm)) (\(pid)): held \(seconds(time.gilHeldNanoseconds)) s, "
                + "released \(seconds(time.gilReleasedNanoseconds)) s, waiting \(seconds(time.gilWaitingNanoseconds)) s "
                + "(thread-seconds)")
        }
        if result.stats.gilUnreadable > 0 {
            lines.append("  GIL unreadable: \(result.stats.gilUnreadable) records without a GIL state")
        }
        return lines
    }

    private func pythonSummary(_ report: PythonReport, stats: SamplerStats) -> [String] {
        var lines: [String] = []
        for (interpreter, counts) in report.byInterpreter.sorted(by: { $0.key < $1.key }) {
            let share = counts.samples == 0 ? 0 : 100 * Double(counts.complete) / Double(counts.samples)
            let processes = counts.processes == 1 ? "1 process" : "\(counts.processes) processes"
            lines.append("  python \(interpreter): \(counts.samples) samples in \(processes), "
                + "\(DecimalText.tenths(share))% with a complete Python stack")
        }
        if report.startProbes > 0 {
            lines.append("  python start probes: \(report.startProbes) interpreter files, \(report.startsCaught) processes caught as they started")
        }
        if report.codeObjectsCaptured > 0 {
            lines.append("  python code objects captured in the kernel: \(report.codeObjectsCaptured) (named even if freed before they were read)")
        }
        for failure in report.startProbeFailures.prefix(3) {
            lines.append("  python start probe not attached (new processes found by polling instead): \(UntrustedText.escaped(failure))")
        }
        let failures = report.symbolizationFailures.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.key.rawValue): \($0.value)" }
        if !failures.isEmpty { lines.append("  python frames not named: " + failures.joined(separator: ", ")) }
        if stats.pythonReadFaults + stats.pythonTruncated + stats.pythonChainBroken > 0 {
            lines.append("  python walks cut short: read faults \(stats.pythonReadFaults), deeper than the limit \(stats.pythonTruncated)"
                + ", broken chains \(stats.pythonChainBroken)")
        }
        for (pid, kind) in report.unsupported.listed {
            lines.append("  pid \(pid) (\(UntrustedText.escaped(kind.interpreterPath))): Python stacks unavailable: "
                + "\(UntrustedText.escaped(kind.reason)); native and kernel frames only")
        }
        for (kind, processes) in report.unsupported.unlisted {
            lines.append("  \(processes) more processes of \(UntrustedText.escaped(kind.interpreterPath)): Python stacks unavailable: "
                + "\(UntrustedText.escaped(kind.reason))")
        }
        return lines
    }
}

extension ProfileFormat: ExpressibleByArgument {}
extension ProcessNaming: ExpressibleByArgument {}
extension RecordingSession.Clock: ExpressibleByArgument {}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
