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

    @Option(name: [.customShort("d"), .long],
            help: ArgumentHelp("Stop after this many seconds (default: until Ctrl-C or COMMAND exits).", valueName: "SECONDS"))
    var duration: Double?

    @Option(name: [.customShort("o"), .long],
            help: ArgumentHelp("Where to write the profile: a file (replaced only once the profile is complete), "
                               + "a device, a FIFO or pipe, or - for stdout.", valueName: "FILE"))
    var output: String = "profile.svg"

    @Option(name: [.customShort("f"), .long],
            help: ArgumentHelp("Output format: \(ProfileFormat.allCases.map(\.rawValue).joined(separator: " or ")) "
                + "(default: from FILE's extension, else svg).", valueName: "FORMAT"))
    var format: ProfileFormat?

    @Flag(help: "Add a THREAD (TID) frame under each process (always on for speedscope and chrome).")
    var threads = false

    @Flag(name: .customLong("python-only"), help: "Show only Python frames, like py-spy: hide native and kernel frames.")
    var pythonOnly = false

    @Flag(name: .customLong("no-kernel"), help: "Hide kernel frames.")
    var noKernel = false

    @Option(name: .customLong("max-stacks"),
            help: ArgumentHelp("Distinct stacks to remember at most (about 0.5 KB each); samples of later ones are "
                + "counted under a [stack table full] frame per process.", valueName: "N"))
    var maximumStacks: Int = 200_000

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

    @Flag(help: "Also print a report of the top functions to stdout (see `pyrograph report`).")
    var report = false

    func validate() throws {
        guard maximumStacks >= 1 else {
            throw ValidationError("--max-stacks \(maximumStacks): at least one stack")
        }
        if let duration, !(duration > 0 && duration.isFinite) {
            throw ValidationError("-d \(duration): the duration must be a positive number of seconds")
        }
    }

    func run() throws {
        guard geteuid() == 0 else {
            throw CLIError("pyrograph needs root to load BPF programs and read other processes: run it with sudo")
        }
        try target.checkTargetsExist()
        let resolvedFormat = ProfileFormat.resolve(named: format, path: output)
        let file = try OutputFile(path: output)

        var options = RecordingSession.Options()
        options.frequency = UInt64(target.frequency)
        options.duration = duration
        options.maximumStacks = maximumStacks
        options.pids = target.pids
        options.command = target.command
        options.allProcesses = target.all
        options.showStatus = isatty(STDERR_FILENO) != 0
        options.clock = clock
        options.processNames = processNames
        options.offCPUOnly = offCPUOnly
        let inWallTime = clock == .wall || offCPUOnly
        let scope = target.scopeDescription
        let frequency = target.frequency
        options.onStart = { cpus in
            fputs("pyrograph: recording \(scope) at \(frequency) Hz on \(cpus) CPUs; Ctrl-C to stop\n", stderr)
        }
        let session = RecordingSession(options: options)
        let sink = ProfileSink(options: StackAggregator.Options(perThread: threads || resolvedFormat.showsThreads,
                                                                includeKernel: !noKernel && !pythonOnly,
                                                                includeNative: !pythonOnly,
                                                                mergeProcesses: mergeProcesses),
                               keepsTimeline: resolvedFormat.needsTimeline,
                               wallPeriodNanoseconds: inWallTime ? 1_000_000_000 / UInt64(target.frequency) : nil)
        session.add(sink)
        let report = try session.run()
        let profile = sink.profile(recording: report.recording)

        try resolvedFormat.writer().write(profile, to: file)
        try file.commit()
        printSummary(report, profile: profile, format: resolvedFormat)
        if self.report {
            let stdout = try OutputFile(path: "-")
            try ReportWriter().write(profile, to: stdout)
            try stdout.commit()
        }
        if let status = report.commandExitStatus, status != 0 {
            throw ExitCode(status)
        }
    }

    private func printSummary(_ result: RecordingSession.Report, profile: Profile, format: ProfileFormat) {
        let stats = result.stats
        var lines: [String] = []
        lines.append("pyrograph: \(profile.totalSamples) samples from \(result.processesSeen) processes "
            + "in \(DecimalText.tenths(result.elapsedSeconds)) s at \(target.frequency) Hz")
        var lost = "  lost samples: \(stats.lost)"
        if stats.lost > 0 { lost += " (ring buffer full: the reader fell behind; try a lower -F)" }
        lines.append(lost)
        if result.droppedAtStop > 0 {
            lines.append("  samples dropped at stop: \(result.droppedAtStop) (still queued when the time to drain ran out)")
        }
        if stats.kernelStackErrors + stats.userStackErrors > 0 {
            lines.append("  stacks not captured: kernel \(stats.kernelStackErrors), user \(stats.userStackErrors)")
        }
        if result.samplesPastStackLimit > 0 {
            lines.append("  stacks past --max-stacks \(maximumStacks): \(result.samplesPastStackLimit) samples "
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
        if profile.isEmpty {
            lines.append(target.namesTargets || target.all
                ? "  warning: no samples were recorded: the profiled processes did not run on a CPU while sampling"
                : "  warning: no samples were recorded: no Python process ran on a CPU while sampling (--all profiles every process)")
        }
        lines.append("  wrote \(output) (\(format.rawValue))")
        fputs(lines.joined(separator: "\n") + "\n", stderr)
    }

    /// On- and off-CPU time per process, and the off-CPU intervals lost.
    private func timeSummary(_ result: RecordingSession.Report) -> [String] {
        let stats = result.stats
        var lines = ["  off-CPU intervals: \(stats.offCPUIntervals) ended, \(result.offCPUOpenAtStop) open at stop (counted to the stop)"]
        let lostInKernel = stats.offCPULostRingBufferFull + stats.offCPUUntracked
        let unmatched = result.offCPUUnmatchedEnds + result.offCPUUnmatchedStarts
        if lostInKernel + UInt64(unmatched) > 0 {
            lines.append("  off-CPU intervals lost: ring buffer full \(stats.offCPULostRingBufferFull), start map full "
                + "\(stats.offCPUUntracked), ends without stacks \(result.offCPUUnmatchedEnds), stacks without an end "
                + "\(result.offCPUUnmatchedStarts)")
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

    private func pythonSummary(_ report: PythonReport, stats: SamplerStats) -> [String] {
        var lines: [String] = []
        for (interpreter, counts) in report.byInterpreter.sorted(by: { $0.key < $1.key }) {
            let share = counts.samples == 0 ? 0 : 100 * Double(counts.complete) / Double(counts.samples)
            lines.append("  python \(interpreter): \(counts.samples) samples in \(counts.pids.count) processes, "
                + "\(DecimalText.tenths(share))% with a complete Python stack")
        }
        if report.startProbes > 0 {
            lines.append("  python start probes: \(report.startProbes) interpreter files, \(report.startsCaught) processes caught as they started")
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
        for (pid, process) in report.unsupported.sorted(by: { $0.key < $1.key }) {
            lines.append("  pid \(pid) (\(UntrustedText.escaped(process.interpreterPath))): Python stacks unavailable: "
                + "\(UntrustedText.escaped(process.unsupportedReason ?? "unsupported")); native and kernel frames only")
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
