/// Why a process could not be dumped; each says what to do.
public enum DumpError: Error, Equatable, CustomStringConvertible {
    case noSuchProcess(pid: Int32)
    case exitedWhileDumping(pid: Int32)
    case notPython(pid: Int32)
    case unsupported(pid: Int32, version: String?, reason: String)
    case memoryUnreadable(pid: Int32, reason: String)
    case threadListUnreadable(pid: Int32)
    case lockFailed(pid: Int32, reason: String)

    public var pid: Int32 {
        switch self {
        case .noSuchProcess(let pid), .exitedWhileDumping(let pid), .notPython(let pid),
             .unsupported(let pid, _, _), .memoryUnreadable(let pid, _), .threadListUnreadable(let pid),
             .lockFailed(let pid, _):
            return pid
        }
    }

    public var description: String {
        switch self {
        case .noSuchProcess(let pid):
            return "process \(pid) does not exist (pyrograph ps lists the Python processes)"
        case .exitedWhileDumping(let pid):
            return "process \(pid) exited while it was being dumped"
        case .notPython(let pid):
            return "process \(pid) does not run a Python interpreter pyrograph recognises (see pyrograph ps)"
        case .unsupported(let pid, let version, let reason):
            return "process \(pid) runs Python \(version ?? "of an unknown version"), whose stacks pyrograph cannot read: \(reason)"
        case .memoryUnreadable(let pid, let reason):
            return "cannot read the memory of process \(pid): \(reason) (run pyrograph as root)"
        case .threadListUnreadable(let pid):
            return "the thread list of process \(pid) could not be read consistently; try again, or with --lock"
        case .lockFailed(let pid, let reason):
            return "cannot stop process \(pid) with ptrace: \(reason) (is another debugger attached?)"
        }
    }
}
