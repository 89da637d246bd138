import Glibc

/// A failed system call, with what was being done and to what, so the
/// message can tell the user what to fix.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    public var operation: String
    public var path: String?
    public var errno: Int32

    public init(_ operation: String, path: String? = nil, errno: Int32 = Glibc.errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        if let path { return "\(operation) \(path): \(reason)" }
        return "\(operation): \(reason)"
    }

    public var isNotFound: Bool { errno == ENOENT || errno == ESRCH }
}
