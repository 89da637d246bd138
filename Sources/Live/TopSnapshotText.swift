/// `top` with stdout not a terminal: a plain snapshot per interval, names
/// whole and escaped, for a log or a pipe.
public enum TopSnapshotText {
    public static let rowLimit = 20

    public static func text(_ content: TopContent) -> String {
        var lines = [TopColumns.title(content) + ": " + TopColumns.status(content) + "; "
            + TopColumns.choices(content.state)]
        lines.append(TopColumns.heading)
        lines += content.rows.prefix(rowLimit).map { TopColumns.row($0, functionWidth: nil) }
        if content.rows.count > rowLimit { lines.append("  ... \(content.rows.count - rowLimit) more") }
        return lines.joined(separator: "\n") + "\n\n"
    }
}
