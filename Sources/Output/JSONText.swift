/// JSON text as the formats that are JSON (speedscope, Chrome's trace
/// events) need it. Names from profiled processes may hold quotes,
/// backslashes and control characters; a Swift string is valid Unicode, so
/// invalid UTF-8 was already replaced when the name was read.
enum JSONText {
    /// `text` as a JSON string literal, quotes included. Quotes and
    /// backslashes are escaped, every control character (C0, DEL, C1) and
    /// the line and paragraph separators are written as `\uXXXX`.
    static func quoted(_ text: String) -> String {
        // Most names are printable ASCII with nothing to escape: checked
        // byte by byte, they are copied whole (a large profile's frame
        // table has hundreds of thousands).
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                switch scalar.value {
                case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029:
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default:
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
