import Aggregation

/// The folded format that flamegraph.pl and inferno read: one line per
/// distinct stack, frames root first joined by `;`, then a space and the
/// count.
public enum FoldedWriter {
    public static func render(_ profile: Profile) -> String {
        var out = ""
        for (frames, count) in profile.sortedStacks() {
            var first = true
            for frame in frames {
                if !first { out += ";" }
                out += sanitize(frame.name)
                first = false
            }
            out += " \(count)\n"
        }
        return out
    }

    /// `;` separates frames and a newline ends a record, so neither may
    /// appear inside a name taken from a profiled process; other control
    /// characters (ESC, NUL) are escaped, as a terminal would obey them.
    static func sanitize(_ name: String) -> String {
        guard name.contains(where: { $0 == ";" || $0.isNewline })
                || name.unicodeScalars.contains(where: UntrustedText.needsEscape) else { return name }
        return UntrustedText.escaped(String(name.map { $0 == ";" ? ":" : ($0.isNewline ? " " : $0) }))
    }
}
