import Aggregation

/// The drawing shared by the flame graph writers: background, controls,
/// and one element per box of a layout. What a box looks like (its fill,
/// its tooltip, extra data for the script) is the writer's decision,
/// passed in as a `Decoration`.
///
/// A graph deeper than the maximum height opens on a window of levels
/// (`FlameGraphWindow`), drawn so in the file itself, for viewers without
/// the script too; the script pans over the rest. The title and controls
/// sit in a top bar, the details line in a bottom bar, drawn after the
/// frames and opaque, so frames outside the window hide under them.
struct FlameGraphSVG {
    struct Decoration {
        var fill: String
        /// "NAME (…)": the script reads the name back as the part before
        /// the last " (", so the part in parentheses must not hold one.
        var title: String
        /// More `data-` attributes for the script, values unescaped.
        var attributes: [(name: String, value: String)] = []
    }

    let options: FlameGraphWriter.Options
    private(set) var canvas: FlameGraphCanvas
    let layout: FlameGraphLayout
    let window: FlameGraphWindow
    let height: Int

    /// - Parameter baselineScale: for a differential graph, see `FlameGraphLayout`.
    init(tree: FlameGraphTree, options: FlameGraphWriter.Options, baselineScale: Double? = nil) {
        self.options = options
        canvas = FlameGraphCanvas(options: options)
        layout = FlameGraphLayout(
            tree: tree,
            minimumSamples: Self.minimumSamples(options: options, total: tree.root.samples),
            baselineScale: baselineScale
        )
        let levels = layout.totalSamples == 0 ? 3 : layout.maxDepth + 1
        let unwindowed = canvas
        let fitting = options.maximumHeight.map { unwindowed.levels(fittingHeight: $0) } ?? levels
        window = FlameGraphWindow(layout: layout, levels: min(levels, fitting))
        // The line that says which levels show goes under the title.
        if window.levels < levels { canvas.topMargin = FlameGraphCanvas.twoLineTopMargin }
        height = canvas.height(levels: window.levels)
    }

    /// The fewest samples a frame is drawn for: `minimumFrameWidth` pixels
    /// of a graph `total` samples wide.
    static func minimumSamples(options: FlameGraphWriter.Options, total: UInt64) -> Double {
        options.minimumFrameWidth / FlameGraphCanvas(options: options).pixelsPerSample(total: total)
    }

    var isWindowed: Bool { window.levels < layout.maxDepth + 1 }

    /// The document, handed to `emit` a piece at a time: a large graph is
    /// megabytes, and written as it is made.
    ///
    /// - Parameters:
    ///   - graphAttributes: more `data-` attributes on the frames group.
    ///   - decorate: the look of one box.
    func render(
        script: String, style: String, graphClass: String = "flamegraph",
        graphAttributes: [(name: String, value: String)] = [],
        decorate: (FlameGraphLayout.Box) -> Decoration,
        emit: (String) throws -> Void
    ) rethrows {
        try emit(header(width: canvas.width, height: height, graphClass: graphClass, style: style))
        guard layout.totalSamples > 0 else {
            try emit(#"<text id="no-samples" x="\#(canvas.width / 2)" y="\#(height / 2)">no samples</text>"# + "\n")
            try emit(topBar(withControls: false) + "</svg>\n")
            return
        }
        try emit("<script type=\"text/ecmascript\">" + SVGEscaping.cdata(script) + "</script>\n")
        try emit(framesGroupStart(extra: graphAttributes))
        let scale = canvas.pixelsPerSample(total: layout.totalSamples)
        for box in layout.boxes {
            let x = FlameGraphCanvas.sideMargin + Double(box.offset) * scale
            try emit(frameElement(box, decoration: decorate(box), x: x, y: y(ofDepth: box.depth),
                                  width: Double(box.samples) * scale))
        }
        try emit("</g>\n")
        try emit(topBar(withControls: true) + bottomBar(height: height) + "</svg>\n")
    }

    /// The top of a frame's box: the window's first level at the bottom of
    /// a flame graph, at the top of an icicle graph.
    private func y(ofDepth depth: Int) -> Double {
        let frameHeight = Double(canvas.frameHeight)
        let level = Double(depth - window.firstLevel)
        if options.icicle { return canvas.topMargin + level * frameHeight }
        return Double(height) - canvas.bottomMargin - (level + 1) * frameHeight
    }

    /// Everything the script needs to redo the layout after a zoom.
    private func framesGroupStart(extra: [(name: String, value: String)]) -> String {
        let n = SVGNumber.coordinate
        var group = "<g id=\"frames\" font-size=\"\(n(FlameGraphCanvas.labelFontSize))\""
            + " data-total-samples=\"\(layout.totalSamples)\""
            + " data-left=\"\(n(FlameGraphCanvas.sideMargin))\" data-graph-width=\"\(n(canvas.graphWidth))\""
            + " data-char-width=\"\(n(FlameGraphCanvas.labelCharWidth))\""
            + " data-label-padding=\"\(n(FlameGraphCanvas.labelPadding))\""
            + " data-minimum-width=\"\(options.minimumFrameWidth)\""
            + " data-frame-height=\"\(canvas.frameHeight)\""
            + " data-layout=\"\(options.icicle ? "icicle" : "flame")\""
            + " data-max-depth=\"\(layout.maxDepth)\" data-first-level=\"\(window.firstLevel)\""
            + " data-levels-shown=\"\(window.levels)\""
        for (name, value) in extra { group += " \(name)=\"\(Self.attribute(value))\"" }
        return group + ">\n"
    }

    private func header(width: Int, height: Int, graphClass: String, style: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8" standalone="no"?>
        <svg version="1.1" xmlns="http://www.w3.org/2000/svg" class="\(graphClass)" width="\(width)" \
        height="\(height)" viewBox="0 0 \(width) \(height)">
        <style type="text/css">\(SVGEscaping.cdata(style))</style>
        <defs><linearGradient id="background" x1="0" y1="0" x2="0" y2="1">\
        <stop offset="0" stop-color="rgb(250,250,252)"/><stop offset="1" stop-color="rgb(226,231,240)"/>\
        </linearGradient></defs>
        <rect x="0" y="0" width="\(width)" height="\(height)" fill="url(#background)"/>

        """
    }

    private func topBar(withControls: Bool) -> String {
        let n = SVGNumber.coordinate
        let width = canvas.width
        var bar = "<g id=\"top-bar\"><rect class=\"bar\" x=\"0\" y=\"0\" width=\"\(width)\""
            + " height=\"\(n(canvas.topMargin))\"/>\n"
        bar += "<text id=\"title\" x=\"\(width / 2)\" y=\"24\">"
            + SVGEscaping.escaped(SVGEscaping.displayable(options.title)) + "</text>\n"
        if let subtitle = options.subtitle {
            bar += "<text id=\"subtitle\" x=\"\(width / 2)\" y=\"42\">"
                + SVGEscaping.escaped(SVGEscaping.displayable(subtitle)) + "</text>\n"
        }
        if withControls {
            let left = n(FlameGraphCanvas.sideMargin)
            let right = n(Double(width) - FlameGraphCanvas.sideMargin)
            let beforeSearch = n(Double(width) - FlameGraphCanvas.sideMargin - 64)
            if isWindowed {
                bar += "<text id=\"levels\" x=\"\(left)\" y=\"42\">" + levelsText + "</text>\n"
            }
            bar += """
                <text id="reset-zoom" class="control hidden" x="\(left)" y="24">Reset Zoom</text>
                <text id="search" class="control" x="\(right)" y="24">Search</text>
                <text id="reset-search" class="control hidden" x="\(beforeSearch)" y="24">Reset Search</text>

                """
        }
        return bar + "</g>\n"
    }

    private func bottomBar(height: Int) -> String {
        let n = SVGNumber.coordinate
        let barHeight = Int(canvas.bottomMargin)
        return "<g id=\"bottom-bar\"><rect class=\"bar\" x=\"0\" y=\"\(height - barHeight)\""
            + " width=\"\(canvas.width)\" height=\"\(barHeight)\"/>\n"
            + "<text id=\"details\" x=\"\(n(FlameGraphCanvas.sideMargin))\" y=\"\(height - 12)\"></text>\n"
            + "<text id=\"matched\" x=\"\(n(Double(canvas.width) - FlameGraphCanvas.sideMargin))\""
            + " y=\"\(height - 12)\"></text>\n</g>\n"
    }

    /// Says that more levels exist than show; the script rewrites it as it
    /// pans, with the same words.
    private var levelsText: String {
        let last = window.firstLevel + window.levels - 1
        return "levels \(window.firstLevel)\u{2013}\(last) of 0\u{2013}\(layout.maxDepth): scroll for the rest"
    }

    private func frameElement(
        _ box: FlameGraphLayout.Box, decoration: Decoration, x: Double, y: Double, width: Double
    ) -> String {
        let kind = box.kind.map { "\($0)" } ?? "root"
        let labels = FlameGraphLabel.candidates(name: box.name, frame: box.frame)
        let label = FlameGraphLabel.fitted(labels, width: width, padding: FlameGraphCanvas.labelPadding,
                                           charWidth: FlameGraphCanvas.labelCharWidth)
        let n = SVGNumber.coordinate
        // A frame that vanished since the baseline has no width to show.
        // Appended in place: a chain of `+` makes a new string at each step,
        // and a large graph has tens of thousands of frames to write at stop.
        var element = ""
        element.reserveCapacity(320 + 3 * box.name.utf8.count)
        element += "<g class=\"frame\(box.samples == 0 ? " hidden" : "")\" data-kind=\"\(kind)\" data-samples=\"\(box.samples)\""
        element += " data-offset=\"\(box.offset)\" data-depth=\"\(box.depth)\""
        // The display name is the title's; the shorter labels follow it.
        for (index, shorter) in labels.dropFirst().enumerated() {
            element += " data-label-\(index + 1)=\"\(Self.attribute(shorter))\""
        }
        for (name, value) in decoration.attributes { element += " \(name)=\"\(Self.attribute(value))\"" }
        element += "><title>"
        element += SVGEscaping.escaped(decoration.title)
        element += "</title><rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(canvas.frameHeight - 1)\""
        element += " rx=\"2\" ry=\"2\" fill=\"\(decoration.fill)\"/>"
        element += "<text x=\"\(n(x + FlameGraphCanvas.labelPadding))\" y=\"\(n(y + Double(canvas.frameHeight) - 4))\">"
        element += SVGEscaping.escaped(label)
        element += "</text></g>\n"
        return element
    }

    /// An attribute value reads back as written: XML turns a literal tab or
    /// newline in one into a space, a character reference it keeps.
    static func attribute(_ value: String) -> String {
        let escaped = SVGEscaping.escaped(value)
        // The common case, and a large graph has hundreds of thousands.
        if !escaped.utf8.contains(where: { $0 == 0x09 || $0 == 0x0a }) { return escaped }
        var out = ""
        for scalar in escaped.unicodeScalars {
            switch scalar {
            case "\t": out += "&#9;"
            case "\n": out += "&#10;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
