/// `top`'s full screen as lines of text, for a terminal of a given size:
/// a title, the status, the user's choices, the column headings, as many
/// rows as fit, and the keys on the last line. Pure, so that tests check
/// what an 80x24 terminal shows without one.
public enum TopScreen {
    public struct Line: Equatable, Sendable {
        public enum Style: Sendable { case plain, inverse }
        public var text: String
        public var style: Style
    }

    /// At most `height` lines of at most `width` characters.
    public static func lines(_ content: TopContent, width: Int, height: Int) -> [Line] {
        guard width > 0, height > 0 else { return [] }
        var lines = [
            Line(text: TopColumns.title(content), style: .inverse),
            Line(text: TopColumns.status(content), style: .plain),
            Line(text: TopColumns.choices(content.state), style: .plain),
            Line(text: TopColumns.groups, style: .plain),
            Line(text: TopColumns.heading, style: .inverse),
        ]
        let functionWidth = max(width - TopColumns.fixedWidth, 8)
        let room = max(height - lines.count - 1, 0)
        for row in content.rows.prefix(room) {
            lines.append(Line(text: TopColumns.row(row, functionWidth: functionWidth), style: .plain))
        }
        if content.rows.isEmpty && room > 0 {
            lines.append(Line(text: "  (no samples yet)", style: .plain))
        }
        while lines.count < height - 1 { lines.append(Line(text: "", style: .plain)) }
        lines.append(Line(text: TopKey.help, style: .inverse))
        return lines.suffix(height).map { Line(text: TopColumns.cut($0.text, width), style: $0.style) }
    }
}
