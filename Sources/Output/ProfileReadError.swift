/// Why a profile could not be read, said so the user knows what to do.
public struct ProfileReadError: Error, CustomStringConvertible {
    public enum Reason: Sendable {
        /// open or read failed, with errno's words.
        case unreadable(String)
        case empty
        /// Neither pprof nor folded stacks.
        case unknownFormat
        case corrupt(format: ProfileReader.Format, detail: String)
    }

    /// The path the user gave, or `-`.
    public var path: String
    public var reason: Reason

    public var description: String {
        let shown = path == "-" ? "standard input" : UntrustedText.escaped(path)
        switch reason {
        case let .unreadable(detail): return "cannot read \(shown): \(detail)"
        case .empty: return "\(shown) is empty: no profile to read"
        case .unknownFormat:
            return "\(shown) is not a profile pyrograph reads: expected pprof (gzipped or not) or folded stacks (`frame;frame COUNT` lines)"
        case let .corrupt(format, detail): return "\(shown) is not a valid \(format.rawValue) profile: \(detail)"
        }
    }
}
