import ArgumentParser
import Foundation
import ProcessInspection
import Recording

/// Which processes to sample and how often: shared by every command that
/// records (`record` today; `top` and others later).
struct TargetOptions: ParsableArguments {
    @Option(name: [.customShort("p"), .customLong("pid")],
            help: ArgumentHelp("Profile only this process and all its descendants, those that exist already and those it starts later. Repeat for several. Recording ends once all of them have exited.", valueName: "PID"))
    var pids: [Int32] = []

    @Option(name: [.customShort("F"), .long],
            help: ArgumentHelp("Samples per second on each CPU, at most \(TargetOptions.frequencyCeiling): "
                               + "above it the profiler costs each CPU more than it measures.", valueName: "HZ"))
    var frequency: Int = 99

    @Flag(help: "Profile every process on the host, not only Python ones (native and kernel frames for the others).")
    var all = false

    @Option(parsing: .unconditional, help: ArgumentHelp("pyrograph's own nice value while it records, from -20 to 19 (default \(TargetOptions.defaultNice)). "
                               + "On a host whose CPUs are saturated, a profiler at the workload's priority gets too little CPU "
                               + "to read its samples and name new processes' frames, and falls behind; raised, it gets the "
                               + "same small share of CPU (set by -F) when it needs it. A command after -- runs at the "
                               + "priority pyrograph was started with.", valueName: "N"))
    var nice: Int32?

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
        if !pids.isEmpty && !command.isEmpty {
            throw ValidationError("give either -p PID or a COMMAND after --, not both")
        }
        if let nice, !(-20...19).contains(nice) {
            throw ValidationError("--nice \(nice): a nice value is between -20 and 19")
        }
        for pid in pids where pid <= 0 {
            throw ValidationError("-p \(pid): a pid is a positive number")
        }
    }

    /// Checks that need root and the live system, after `validate`: each
    /// -p names a live user process.
    func checkTargetsExist() throws {
        for pid in pids {
            guard let status = ProcessStatus(pid: pid) else { throw CLIError("no process with pid \(pid)") }
            if let reason = status.whyNotProfilable { throw CLIError("-p \(pid) \(reason)") }
        }
    }

    static let defaultNice: Int32 = -20

    /// Sets pyrograph's priority to --nice. The kernel's refusal of a value
    /// the user asked for is an error; of the default, a note for the
    /// summary (`refusal`), and recording goes on at the priority it had.
    func applyPriority() throws -> (priority: OwnPriority, refusal: String?) {
        do {
            return (try OwnPriority.set(to: nice ?? Self.defaultNice), nil)
        } catch let error as RecordingError {
            if nice != nil { throw CLIError(error.description) }
            return (OwnPriority.unchanged(), "\(error); on a saturated host it may fall behind")
        }
    }

    /// Targets were named (-p or a command), rather than the whole host.
    var namesTargets: Bool { !pids.isEmpty || !command.isEmpty }

    /// What is being recorded, in words.
    var scopeDescription: String {
        !pids.isEmpty ? "pid " + pids.map(String.init).joined(separator: ", ")
            : !command.isEmpty ? command[0] : all ? "every process on the host" : "every Python process on the host"
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
