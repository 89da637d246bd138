/// What a key does in `top`. Ctrl-C is not here: it stays a signal (the
/// terminal keeps ISIG), so it stops `top` as it stops `record`.
public enum TopKey: Equatable, Sendable {
    case quit
    case pause
    case sort(TopOrder.Key)
    case switchWindow
    case nextProcess
    case allProcesses

    /// The keys in bytes read from the terminal; others are ignored.
    public static func parse(_ bytes: [UInt8]) -> [TopKey] {
        bytes.compactMap { byte in
            switch byte {
            case UInt8(ascii: "q"), UInt8(ascii: "Q"): return .quit
            case UInt8(ascii: " "): return .pause
            case UInt8(ascii: "o"): return .sort(.own)
            case UInt8(ascii: "t"): return .sort(.total)
            case UInt8(ascii: "n"): return .sort(.name)
            case UInt8(ascii: "w"): return .switchWindow
            case UInt8(ascii: "p"): return .nextProcess
            case UInt8(ascii: "a"): return .allProcesses
            default: return nil
            }
        }
    }

    /// The keys, as the screen's last line lists them.
    public static let help = "q quit  space pause  o/t/n sort own/total/name  w window  p process  a all"
}
