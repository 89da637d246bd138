import Glibc

public enum RecordingError: Error, CustomStringConvertible {
    case commandFailed(command: String, errno: Int32)

    public var description: String {
        switch self {
        case let .commandFailed(command, errno):
            return "could not start \(command): \(String(cString: strerror(errno)))"
        }
    }
}
