import Glibc

public enum RecordingError: Error, CustomStringConvertible {
    case commandFailed(command: String, errno: Int32)
    case priorityRefused(nice: Int32, errno: Int32)

    public var description: String {
        switch self {
        case let .commandFailed(command, errno):
            return "could not start \(command): \(String(cString: strerror(errno)))"
        case let .priorityRefused(nice, errno):
            return "could not set pyrograph's priority to nice \(nice): \(String(cString: strerror(errno)))"
        }
    }
}
