import Glibc

/// Why the sampler could not start, worded for the person running it.
public enum SamplerError: Error, CustomStringConvertible {
    case btfUnavailable(path: String)
    case openFailed(errno: Int32, log: String)
    case loadFailed(errno: Int32, log: String)
    case attachFailed(what: String, errno: Int32, log: String)
    case mapUpdateFailed(what: String, errno: Int32)

    public var description: String {
        switch self {
        case let .btfUnavailable(path):
            return "kernel BTF is not available at \(path); pyrograph needs a kernel built with CONFIG_DEBUG_INFO_BTF=y"
        case let .openFailed(errno, log):
            return "could not open the BPF programs: \(SamplerError.reason(errno))" + SamplerError.tail(log)
        case let .loadFailed(errno, log):
            var message = "the kernel refused to load the BPF programs: \(SamplerError.reason(errno))"
            if errno == EPERM || errno == EACCES {
                message += "\n(run as root; in a container, pyrograph needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)"
            }
            return message + SamplerError.tail(log)
        case let .attachFailed(what, errno, log):
            return "could not attach \(what): \(SamplerError.reason(errno))" + SamplerError.tail(log)
        case let .mapUpdateFailed(what, errno):
            return "could not update BPF map \(what): \(SamplerError.reason(errno))"
        }
    }

    static func reason(_ errno: Int32) -> String {
        String(cString: strerror(abs(errno)))
    }

    /// The verifier's verdict is at the end of its log.
    static func tail(_ log: String, lines: Int = 25) -> String {
        let kept = log.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines)
        let text = String(kept.joined(separator: "\n").drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        return text.isEmpty ? "" : "\nlast lines of the libbpf/verifier log:\n\(text)"
    }
}
