import Aggregation
import CPyrograph
import PythonRuntime

/// Per-interpreter accounting of how well Python stacks were read.
public struct PythonReport {
    public struct VersionCounts {
        public var samples = 0
        /// Samples whose Python stack was walked to its root and fully named.
        public var complete = 0
        /// Processes with samples: those seen since they last exited, and
        /// a count of the others (a set of every pid would grow with each
        /// short-lived process of a long recording).
        var livePIDs = Set<Int32>()
        var exitedProcesses = 0
        public var processes: Int { livePIDs.count + exitedProcesses }
    }

    /// Keyed by "3.11.7 shared" and the like.
    public var byInterpreter: [String: VersionCounts] = [:]
    public var symbolizationFailures: [PythonSymbolizer.Failure: Int] = [:]
    public var unsupported = UnsupportedInterpreters()
    /// Interpreter files given a start probe, processes it caught as they
    /// started, and probes the kernel refused (why).
    public var startProbes = 0
    public var startsCaught = 0
    public var startProbeFailures: [String] = []
    /// Code objects whose naming bytes the kernel copied at sample time.
    public var codeObjectsCaptured = 0

    mutating func record(_ sample: RawSample, process: PythonProcess, complete: Bool) {
        let key = "\(process.version?.description ?? "?") \(process.buildDescription)"
        byInterpreter[key, default: VersionCounts()].samples += 1
        byInterpreter[key]!.livePIDs.insert(sample.pid)
        if complete && sample.pythonStatus == PYRO_PYTHON_OK { byInterpreter[key]!.complete += 1 }
    }

    /// Called once no more of the process's samples can arrive.
    mutating func forget(_ pid: Int32) {
        for key in byInterpreter.keys where byInterpreter[key]!.livePIDs.remove(pid) != nil {
            byInterpreter[key]!.exitedProcesses += 1
        }
    }
}

extension Array where Element == Frame {
    /// Has Python frames, none missing, and the outermost one is where a
    /// thread's Python stack begins: a walk cut short above it (a stack cut
    /// to its leaf frame) is not complete, whatever else it says.
    var isCompletePython: Bool {
        guard let outermost = first(where: { $0.kind == .python }) else { return false }
        return outermost.isPythonStackRoot && !contains { $0.annotation?.marksMissingPython ?? false }
    }
}

extension Frame {
    /// A module's top level (a script, `-c`, an import), a thread's
    /// bootstrap in threading.py, or runpy's entry for `python -m`.
    var isPythonStackRoot: Bool {
        if function == "<module>" { return true }
        let fileName = file?.split(separator: "/").last ?? ""
        switch fileName {
        case "threading.py": return function.hasSuffix("_bootstrap")
        case "runpy.py", "<frozen runpy>": return function == "_run_module_as_main" || function == "_run_module_code"
        default: return false
        }
    }
}
