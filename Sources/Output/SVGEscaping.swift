/// Making text from profiled processes safe to put in an SVG document.
/// Process, thread and symbol names are chosen by whoever wrote the
/// program, so any of them may contain markup or bytes XML cannot hold.
enum SVGEscaping {
    /// XML 1.0 cannot hold most C0 controls at all, even escaped, so they
    /// become U+FFFD. Carriage returns go too: parsers rewrite them, and the
    /// name the script reads back would differ from the one written.
    static func displayable(_ name: String) -> String {
        guard name.unicodeScalars.contains(where: isForbidden) else { return name }
        var scalars = String.UnicodeScalarView()
        for scalar in name.unicodeScalars {
            scalars.append(isForbidden(scalar) ? "\u{FFFD}" : scalar)
        }
        return String(scalars)
    }

    private static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A: return false
        case 0x00...0x1F, 0xFFFE, 0xFFFF: return true
        default: return false
        }
    }

    /// Escapes all five predefined entities, so the result is safe both as
    /// element text and inside an attribute value with either quote. Works
    /// on scalars: a combining mark after `&` would hide it from a
    /// Character comparison.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscaping) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscaping(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "&" || scalar == "<" || scalar == ">" || scalar == "\"" || scalar == "'"
    }

    /// A CDATA section cannot contain its own terminator, so a literal `]]>`
    /// is split across two sections; a parser joins them back. Matched on
    /// scalars, since a combining mark would hide `>` from a Character match.
    static func cdata(_ content: String) -> String {
        let split = content.unicodeScalars.replacing(
            Array("]]>".unicodeScalars),
            with: Array("]]]]><![CDATA[>".unicodeScalars)
        )
        return "<![CDATA[" + String(split) + "]]>"
    }
}
