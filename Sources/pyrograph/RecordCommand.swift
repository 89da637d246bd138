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

    @Option(name: [.customShort("p"), .customLong("pid")],
            help: ArgumentHelp("Profile only this process (and its children). Repeat for several.", valueName: "PID"))
    var pids: [Int32] = []

    @Option(name: [.customShort("d"), .long],
            help: ArgumentHelp("Stop after this many seconds (default: until Ctrl-C or COMMAND exits).", valueName: "SECONDS"))
    var duration: Double?

    @Option(name: [.customShort("F"), .long],
            help: ArgumentHelp("Samples per second on each CPU, at most \(RecordCommand.frequencyCeiling): "
                               + "above it the profiler costs each CPU more than it measures.", valueName: "HZ"))
    var frequency: Int = 99

    @Option(name: [.customShort("o"), .long],
            help: ArgumentHelp("Where to write the profile: a file (replaced only once the profile is complete), "
                               + "a device, a FIFO or pipe, or - for stdout.", valueName: "FILE"))
    var output: String = "profile.svg"

    @Option(name: [.customShort("f"), .long],
            help: ArgumentHelp("Output format: svg or folded (default: from FILE's extension, else svg).", valueName: "FORMAT"))
    var format: OutputFormat?

    @Flag(help: "Add a THREAD (TID) frame under each process.")
    var threads = false

    @Flag(help: "Profile every process on the host, not only Python ones (native and kernel frames for the others).")
    var all = false

    @Flag(name: .customLong("python-only"), help: "Show only Python frames, like py-spy: hide native and kernel frames.")
    var pythonOnly = false

    @Flag(name: .customLong("no-kernel"), help: "Hide kernel frames.")
    var noKernel = false

    @Argument(parsing: .postTerminator,
              help: ArgumentHelp("A program to start and profile with its children, after --.", valueName: "COMMAND"))
    var command: [String] = []

    func validate() throws {
        let kernelMaximum = Self.maximumSampleRate()
        let maximum = min(kernelMaximum, Self.frequencyCeiling)
        guard frequency >= 1 && frequency <= maximum else {
            throw ValidationError("-F \(frequency): the rate must be between 1 and \(maximum) Hz"
                + (kernelMaximum < Self.frequencyCeiling ? " (kernel.perf_event_max_sample_rate)" : ""))
        }
        if let duration, !(duration > 0 && duration.isFinite) {
            throw ValidationError("-d \(duration): the duration must be a positive number of seconds")
        }
        if !pids.isEmpty && !command.isEmpty {
            throw ValidationError("give either -p PID or a COMMAND after --, not both")
        }
        for pid in pids where pid <= 0 {
            throw ValidationError("-p \(pid): a pid is a positive number")
        }
    }

    func run() throws {
        guard geteuid() == 0 else {
            throw CLIError("pyrograph needs root to load BPF programs and read other processes: run it with sudo")
        }
        for pid in pids {
            guard let status = ProcessStatus(pid: pid) else { throw CLIError("no process with pid \(pid)") }
            if let reason = status.whyNotProfilable { throw CLIError("-p \(pid) \(reason)") }
        }
        let resolvedFormat = format ?? OutputFormat.inferred(fromPath: output) ?? .svg
        let file = try OutputFile(path: output)

        var options = Recorder.Options()
        options.frequency = UInt64(frequency)
        options.duration = duration
        options.pids = pids
        options.command = command
        options.allProcesses = all
        options.aggregation = StackAggregator.Options(perThread: threads, includeKernel: !noKernel && !pythonOnly,
                                                      includeNative: !pythonOnly)
        options.showStatus = isatty(STDERR_FILENO) != 0
        let scope = !pids.isEmpty ? "pid " + pids.map(String.init).joined(separator: ", ")
            : !command.isEmpty ? command[0] : all ? "every process on the host" : "every Python process on the host"
        options.onStart = { cpus in
            fputs("pyrograph: recording \(scope) at \(frequency) Hz on \(cpus) CPUs; Ctrl-C to stop\n", stderr)
        }
        let result = try Recorder(options: options).run()

        let rendered: String
        switch resolvedFormat {
        case .folded:
            rendered = FoldedWriter.render(result.profile)
        case .svg:
            let subtitle = "\(result.profile.totalSamples) samples, \(frequency) Hz, "
                + "\(StatusFormatting.seconds(result.elapsedSeconds)) s, \(result.processesSeen) processes"
            rendered = FlameGraphWriter.render(result.profile, options: .init(title: "pyrograph", subtitle: subtitle))
        }
        try file.write(rendered)
        try file.commit()
        printSummary(result, format: resolvedFormat)
        if let status = result.commandExitStatus, status != 0 {
            throw ExitCode(status)
        }
    }

    private func printSummary(_ result: Recorder.Result, format: OutputFormat) {
        let stats = result.stats
        var lines: [String] = []
        lines.append("pyrograph: \(result.profile.totalSamples) samples from \(result.processesSeen) processes "
            + "in \(StatusFormatting.seconds(result.elapsedSeconds)) s at \(frequency) Hz")
        var lost = "  lost samples: \(stats.lost)"
        if stats.lost > 0 { lost += " (ring buffer full: the reader fell behind; try a lower -F)" }
        lines.append(lost)
        if result.droppedAtStop > 0 {
            lines.append("  samples dropped at stop: \(result.droppedAtStop) (still queued when the time to drain ran out)")
        }
        if stats.kernelStackErrors + stats.userStackErrors > 0 {
            lines.append("  stacks not captured: kernel \(stats.kernelStackErrors), user \(stats.userStackErrors)")
        }
        if result.malformedRecords > 0 {
            lines.append("  malformed records: \(result.malformedRecords)")
        }
        if let error = result.kernelSymbolError {
            lines.append("  kernel frames are unnamed: \(error)")
        }
        lines.append(contentsOf: pythonSummary(result.python, stats: stats))
        let unwinding = result.unwinding
        if unwinding.processes > 0 {
            let bytes = unwinding.rows * MemoryLayout<pyro_unwind_row>.stride
                + unwinding.pages * MemoryLayout<pyro_unwind_page>.stride
            let megabytes = Double(bytes) / 1_048_576
            lines.append("  native unwinding: CFI tables for \(unwinding.processes) processes, \(unwinding.files) files, "
                + "\(unwinding.rows) rows (\(StatusFormatting.percent(megabytes)) MB)"
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
        if result.profile.isEmpty {
            lines.append(!pids.isEmpty || !command.isEmpty || all
                ? "  warning: no samples were recorded: the profiled processes did not run on a CPU while sampling"
                : "  warning: no samples were recorded: no Python process ran on a CPU while sampling (--all profiles every process)")
        }
        lines.append("  wrote \(output) (\(format.rawValue))")
        fputs(lines.joined(separator: "\n") + "\n", stderr)
    }

    private func pythonSummary(_ report: PythonReport, stats: SamplerStats) -> [String] {
        var lines: [String] = []
        for (interpreter, counts) in report.byInterpreter.sorted(by: { $0.key < $1.key }) {
            let share = counts.samples == 0 ? 0 : 100 * Double(counts.complete) / Double(counts.samples)
            lines.append("  python \(interpreter): \(counts.samples) samples in \(counts.pids.count) processes, "
                + "\(StatusFormatting.percent(share))% with a complete Python stack")
        }
        let failures = report.symbolizationFailures.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.key.rawValue): \($0.value)" }
        if !failures.isEmpty { lines.append("  python frames not named: " + failures.joined(separator: ", ")) }
        if stats.pythonReadFaults + stats.pythonTruncated > 0 {
            lines.append("  python walks cut short: read faults \(stats.pythonReadFaults), deeper than the limit \(stats.pythonTruncated)")
        }
        for (pid, process) in report.unsupported.sorted(by: { $0.key < $1.key }) {
            lines.append("  pid \(pid) (\(UntrustedText.escaped(process.interpreterPath))): Python stacks unavailable: "
                + "\(UntrustedText.escaped(process.unsupportedReason ?? "unsupported")); native and kernel frames only")
        }
        return lines
    }

    /// 10 kHz is a sample every 100 µs of CPU. Each sample costs the BPF
    /// walker a few to tens of µs on the sampled CPU, and one reader thread
    /// handles every CPU's samples: above this the profiler takes a large
    /// share of the host it measures, and a longer recording is the better
    /// way to get more samples.
    static let frequencyCeiling = 10_000

    static func maximumSampleRate() -> Int {
        guard let text = try? FileReader.string("/proc/sys/kernel/perf_event_max_sample_rate"),
              let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return 100_000 }
        return value
    }
}

enum StatusFormatting {
    static func percent(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func seconds(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
