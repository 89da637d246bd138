import Aggregation

/// What a frame's label says in a box too narrow for its whole name. The
/// function is what a reader looks for, so it goes last of all: a Python
/// frame drops its file's directories first, then its location; a native
/// frame drops its module. Only then is the function itself cut, with "..".
/// The script refits labels after a zoom with the same rule, from the
/// candidates the writer puts on each frame.
enum FlameGraphLabel {
    /// Longest first, all different, the first being the display name.
    static func candidates(name: String, frame: Frame?) -> [String] {
        var candidates = [name]
        func offer(_ text: String) {
            if !text.isEmpty, text != candidates.last { candidates.append(text) }
        }
        guard let frame, !frame.function.isEmpty else { return candidates }
        switch frame.kind {
        case .python:
            if let file = frame.file {
                offer("\(frame.function) (\(lastComponent(of: file)):\(frame.line ?? 0))")
            }
            offer(frame.function)
        case .native, .kernel, .process, .thread:
            offer(frame.function)
        case .annotation:
            break
        }
        return candidates.map(SVGEscaping.displayable)
    }

    /// The first candidate that fits `width` pixels whole, else the last
    /// one cut; empty when not even three characters fit. Widths are
    /// estimated from an average glyph width rather than measured, so the
    /// output is the same on every machine.
    static func fitted(_ candidates: [String], width: Double, padding: Double, charWidth: Double) -> String {
        let room = (width - 2 * padding) / charWidth
        guard room >= 3, let last = candidates.last else { return "" }
        let maxScalars = Int(room)
        if let whole = candidates.first(where: { $0.unicodeScalars.count <= maxScalars }) { return whole }
        return String(String.UnicodeScalarView(last.unicodeScalars.prefix(maxScalars - 2))) + ".."
    }

    private static func lastComponent(of path: String) -> Substring {
        guard let slash = path.lastIndex(of: "/") else { return Substring(path) }
        return path[path.index(after: slash)...]
    }
}
