/// Text taken from a profiled process (argv, comm, file and function
/// names, paths), made safe to print: anyone can put an escape sequence in
/// their argv, and root's terminal would obey it (retitle the window, fake
/// a row with a newline, hide text). Control characters become visible
/// escapes; everything else, backslashes included, is left as it is.
public enum UntrustedText {
    /// `\n`, `\r`, `\t`, `\0` by name, other C0 controls, DEL and the C1
    /// controls (a lone 0x9b is a CSI to some terminals) as `\xHH`, and
    /// the bidirectional overrides that reorder what the eye reads as
    /// `\u{HHHH}`.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            out += escape(scalar)
        }
        return out
    }

    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        // LRE RLE PDF LRO RLO, LRI RLI FSI PDI.
        case 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\0": return "\\0"
        default:
            let hex = String(scalar.value, radix: 16)
            return scalar.value < 0x100
                ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                : "\\u{\(hex)}"
        }
    }
}
