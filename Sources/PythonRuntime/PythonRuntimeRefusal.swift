import CPyrograph

/// Why pyrograph cannot read an interpreter's Python stacks. The process is
/// still profiled, with native and kernel frames.
public enum PythonRuntimeRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case memoryUnreadable
    case debugBuild
    case freeThreaded
    case versionUnknown
    /// No family has a layout for this version.
    case noLayout(PythonVersion)
    /// `_Py_DebugOffsets` of a struct version pyrograph does not know.
    case unknownDebugOffsets(PythonVersion)
    /// A 3.13+ interpreter whose `_PyRuntime` does not start with the
    /// table's cookie: seen in a process caught while its libraries were
    /// still being mapped, or while it was exiting.
    case debugOffsetsNotFound(PythonVersion)
    /// `_Py_DebugOffsets` whose values cannot be right (a size of zero, a
    /// field beyond its section).
    case implausibleDebugOffsets(PythonVersion, String)
    /// The layout needs something the BPF walker does not do yet.
    case walkerCannotRead(PythonVersion, String)
    case frameWindowTooLarge(PythonVersion)
    case runtimeNotFound(path: String)
    case interpreterHeadNotFound

    public var description: String {
        switch self {
        case .memoryUnreadable: return "cannot read the process's memory"
        case .debugBuild: return "debug build (Py_DEBUG): its objects have a different header"
        case .freeThreaded: return "free-threaded build: its objects have a different header"
        case .versionUnknown: return "the interpreter's version could not be read"
        case .noLayout(let version): return "Python \(version) is not supported (no layout for it)"
        case .unknownDebugOffsets(let version):
            return "Python \(version): its _Py_DebugOffsets is of a struct version pyrograph does not know "
                + "(known: \(DebugOffsets.known.map(\.name).joined(separator: ", ")))"
        case .debugOffsetsNotFound(let version):
            return "Python \(version): no _Py_DebugOffsets at the start of _PyRuntime (the process was still starting or exiting?)"
        case .implausibleDebugOffsets(let version, let detail):
            return "Python \(version): its _Py_DebugOffsets cannot be right: \(detail)"
        case .walkerCannotRead(let version, let detail):
            return "Python \(version): \(detail), which the walker does not do yet"
        case .frameWindowTooLarge(let version):
            return "Python \(version): frame fields lie beyond the walker's \(PYRO_MAX_FRAME_WINDOW) bytes"
        case .runtimeNotFound(let path): return "_PyRuntime not found in \(path)"
        case .interpreterHeadNotFound: return "interp_head not found (stripped interpreter?)"
        }
    }

    /// The reason frame a refused process's samples carry, short enough for
    /// a flame graph: "python 3.16.0: no stack layout".
    public func frameText(_ version: PythonVersion?) -> String {
        let what: String
        switch self {
        case .memoryUnreadable: what = "memory unreadable"
        case .debugBuild: what = "debug build"
        case .freeThreaded: what = "free-threaded build"
        case .versionUnknown: what = "version unknown"
        case .noLayout, .unknownDebugOffsets: what = "no stack layout"
        case .implausibleDebugOffsets: what = "implausible _Py_DebugOffsets"
        case .debugOffsetsNotFound: what = "_Py_DebugOffsets not found"
        case .walkerCannotRead, .frameWindowTooLarge: what = "frames the walker cannot read"
        case .runtimeNotFound: what = "_PyRuntime not found"
        case .interpreterHeadNotFound: what = "interp_head not found"
        }
        return "python \(version?.description ?? "?"): \(what)"
    }
}
