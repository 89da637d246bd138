import Aggregation

/// A differential flame graph: the AFTER profile drawn as a flame graph,
/// each frame coloured by how much its share grew (red) or shrank (blue)
/// since BEFORE, white when unchanged. The colour is full at double or
/// half, and for a frame new in AFTER. Frames found only in BEFORE have no
/// width in AFTER: they are in the file, invisible, so that a search counts
/// their BEFORE samples. Hover and search give both values and the change.
public struct DiffFlameGraphWriter {
    public var options: FlameGraphWriter.Options

    public init(options: FlameGraphWriter.Options = .init(title: "pyrograph diff")) {
        self.options = options
    }

    public func write(_ diff: ProfileDiff, to stream: ByteStream) throws {
        var options = options
        if options.subtitle == nil { options.subtitle = Self.subtitle(for: diff) }
        var out = ChunkedText(stream)
        try Self.draw(diff, options: options, script: EmbeddedAssets.flamegraphJS,
                      style: EmbeddedAssets.flamegraphCSS) { try out.append($0) }
        try out.flush()
    }

    /// "before 1,234 samples, after 2,345; widths from AFTER; red grew, blue shrank"
    static func subtitle(for diff: ProfileDiff) -> String {
        "before \(SVGNumber.grouped(diff.beforeTotal)), after \(SVGNumber.grouped(diff.afterTotal))"
            + (diff.isNormalized ? ", normalized to AFTER's total" : ", not normalized")
            + "; widths from AFTER; red grew, blue shrank"
    }

    public static func render(_ diff: ProfileDiff, options: FlameGraphWriter.Options) -> String {
        render(diff, options: options, script: EmbeddedAssets.flamegraphJS, style: EmbeddedAssets.flamegraphCSS)
    }

    static func render(_ diff: ProfileDiff, options: FlameGraphWriter.Options, script: String, style: String) -> String {
        var svg = ""
        draw(diff, options: options, script: script, style: style) { svg += $0 }
        return svg
    }

    /// The document, handed to `emit` a piece at a time.
    static func draw(_ diff: ProfileDiff, options: FlameGraphWriter.Options, script: String, style: String,
                     emit: (String) throws -> Void) rethrows {
        let tree = FlameGraphTree()
        var names: [Frame: String] = [:]
        for stack in diff.stacks {
            let path = stack.frames.map { frame in
                let name = names[frame] ?? FrameNaming.displayName(frame)
                names[frame] = name
                return (name: name, frame: frame)
            }
            tree.add(path, samples: stack.after, baseline: stack.before)
        }
        let drawing = FlameGraphSVG(tree: tree, options: options, baselineScale: diff.comparableBefore(1))
        try drawing.render(
            script: script, style: style, graphClass: "flamegraph diff",
            graphAttributes: [("data-baseline-total", "\(diff.beforeTotal)")],
            decorate: { box in
                let change = DiffFrameChange(box: box, diff: diff)
                return .init(fill: change.fill, title: "\(SVGEscaping.displayable(box.name)) (\(change.text))",
                             attributes: [("data-baseline", "\(box.baseline)")])
            }, emit: emit)
    }
}
