import ProcessInspection

/// What a process frame shows: the kernel's comm (15 characters, the same
/// for ten `python3` workers), or the command line, which tells them apart.
public enum ProcessNaming: String, Sendable, CaseIterable {
    case comm
    case cmdline

    /// Longest command line shown; a longer one ends in "...".
    static let commandLineLimit = 160

    /// The command line of a process, read while it lives, as one line:
    /// arguments joined by spaces, control characters (a newline in an
    /// argument) shown as spaces, cut at `commandLineLimit`. nil when it
    /// has none (a kernel thread, or a process already gone).
    static func commandLine(of pid: Int32, procRoot: String = "/proc") -> String? {
        guard let raw = try? ProcessDirectory(pid: pid, procRoot: procRoot).commandLine() else { return nil }
        return sanitized(raw)
    }

    static func sanitized(_ raw: String) -> String? {
        let scalars = raw.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) }
        let line = String(String(scalars).drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
        guard !line.isEmpty else { return nil }
        return line.count > commandLineLimit ? String(line.prefix(commandLineLimit)) + "..." : line
    }
}
