import Aggregation

/// A self-contained, interactive SVG flame graph: the root at the bottom,
/// callees stacked above their callers, widths proportional to samples.
/// Hover, zoom and search live in `Assets/flamegraph.js`, embedded at build
/// time; the script reads its geometry from the `data-` attributes written
/// here, so the two cannot disagree about the layout. Widths are the
/// profile's default sample type.
public struct FlameGraphWriter: ProfileWriter {
    public struct Options: Sendable, Equatable {
        public var title: String
        /// A second line under the title, such as "1,234 samples, 99 Hz, 10 s".
        public var subtitle: String?
        /// Of the whole image, in pixels.
        public var width: Int
        public var frameHeight: Int
        /// Frames narrower than this many pixels are left out, with their callees.
        public var minimumFrameWidth: Double

        public init(
            title: String = "pyrograph",
            subtitle: String? = nil,
            width: Int = 1200,
            frameHeight: Int = 16,
            minimumFrameWidth: Double = 0.1
        ) {
            self.title = title
            self.subtitle = subtitle
            self.width = width
            self.frameHeight = frameHeight
            self.minimumFrameWidth = minimumFrameWidth
        }
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Without a subtitle of its own, the graph says how it was recorded.
    public func write(_ profile: Profile, to stream: ByteStream) throws {
        var options = options
        if options.subtitle == nil { options.subtitle = Self.subtitle(for: profile) }
        try stream.write(Self.render(profile, options: options))
    }

    /// "1234 samples, 99 Hz, 10.0 s, 3 processes"
    static func subtitle(for profile: Profile) -> String? {
        guard let recording = profile.recording else { return nil }
        return "\(profile.totalSamples) samples, \(recording.frequency) Hz, "
            + "\(DecimalText.tenths(recording.durationSeconds)) s, \(recording.processCount) processes"
    }

    public static func render(_ profile: Profile, options: Options = Options()) -> String {
        render(profile, options: options, script: EmbeddedAssets.flamegraphJS, style: EmbeddedAssets.flamegraphCSS)
    }

    /// Takes the assets as arguments so golden tests do not change with every
    /// edit to the script.
    static func render(_ profile: Profile, options: Options, script: String, style: String) -> String {
        let canvas = Canvas(options: options)
        let layout = FlameGraphLayout(
            profile: profile,
            minimumSamples: options.minimumFrameWidth / canvas.pixelsPerSample(total: profile.totalSamples)
        )
        let height = canvas.height(levels: layout.totalSamples == 0 ? 3 : layout.maxDepth + 1)

        var svg = header(options: options, width: canvas.width, height: height, style: style)
        guard layout.totalSamples > 0 else {
            svg += #"<text id="no-samples" x="\#(canvas.width / 2)" y="\#(height / 2)">no samples</text>"# + "\n"
            return svg + "</svg>\n"
        }
        svg += "<script type=\"text/ecmascript\">" + SVGEscaping.cdata(script) + "</script>\n"
        svg += controls(canvas: canvas, height: height)

        let scale = canvas.pixelsPerSample(total: layout.totalSamples)
        svg += framesGroupStart(canvas: canvas, totalSamples: layout.totalSamples, options: options)
        svg.reserveCapacity(svg.utf8.count + 400 * layout.boxes.count)
        for box in layout.boxes {
            let x = Canvas.sideMargin + Double(box.offset) * scale
            let y = Double(height) - canvas.bottomMargin - Double((box.depth + 1) * canvas.frameHeight)
            svg += frameElement(box, x: x, y: y, width: Double(box.samples) * scale,
                                totalSamples: layout.totalSamples, frameHeight: canvas.frameHeight)
        }
        return svg + "</g>\n</svg>\n"
    }

    /// Everything the script needs to redo the layout after a zoom.
    private static func framesGroupStart(canvas: Canvas, totalSamples: UInt64, options: Options) -> String {
        let n = SVGNumber.coordinate
        return "<g id=\"frames\" font-size=\"\(n(Canvas.labelFontSize))\" data-total-samples=\"\(totalSamples)\""
            + " data-left=\"\(n(Canvas.sideMargin))\" data-graph-width=\"\(n(canvas.graphWidth))\""
            + " data-char-width=\"\(n(Canvas.labelCharWidth))\" data-label-padding=\"\(n(Canvas.labelPadding))\""
            + " data-minimum-width=\"\(options.minimumFrameWidth)\">\n"
    }

    private static func header(options: Options, width: Int, height: Int, style: String) -> String {
        let title = SVGEscaping.escaped(SVGEscaping.displayable(options.title))
        var svg = """
            <?xml version="1.0" encoding="UTF-8" standalone="no"?>
            <svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" \
            viewBox="0 0 \(width) \(height)">
            <style type="text/css">\(SVGEscaping.cdata(style))</style>
            <defs><linearGradient id="background" x1="0" y1="0" x2="0" y2="1">\
            <stop offset="0" stop-color="rgb(250,250,252)"/><stop offset="1" stop-color="rgb(226,231,240)"/>\
            </linearGradient></defs>
            <rect x="0" y="0" width="\(width)" height="\(height)" fill="url(#background)"/>
            <text id="title" x="\(width / 2)" y="24">\(title)</text>

            """
        if let subtitle = options.subtitle {
            svg += "<text id=\"subtitle\" x=\"\(width / 2)\" y=\"42\">"
            svg += SVGEscaping.escaped(SVGEscaping.displayable(subtitle)) + "</text>\n"
        }
        return svg
    }

    private static func controls(canvas: Canvas, height: Int) -> String {
        let n = SVGNumber.coordinate
        let left = n(Canvas.sideMargin)
        let right = n(Double(canvas.width) - Canvas.sideMargin)
        let beforeSearch = n(Double(canvas.width) - Canvas.sideMargin - 64)
        let bottomLine = height - 12
        return """
            <text id="reset-zoom" class="control hidden" x="\(left)" y="24">Reset Zoom</text>
            <text id="search" class="control" x="\(right)" y="24">Search</text>
            <text id="reset-search" class="control hidden" x="\(beforeSearch)" y="24">Reset Search</text>
            <text id="details" x="\(left)" y="\(bottomLine)"></text>
            <text id="matched" x="\(right)" y="\(bottomLine)"></text>

            """
    }

    private static func frameElement(
        _ box: FlameGraphLayout.Box, x: Double, y: Double, width: Double,
        totalSamples: UInt64, frameHeight: Int
    ) -> String {
        let name = SVGEscaping.displayable(box.name)
        let kind = box.kind.map { "\($0)" } ?? "root"
        let share = SVGNumber.percent(box.samples, of: totalSamples)
        let noun = box.samples == 1 ? "sample" : "samples"
        let title = "\(name) (\(SVGNumber.grouped(box.samples)) \(noun), \(share)%)"
        let fill = FramePalette.fill(kind: box.kind, name: box.name)
        let n = SVGNumber.coordinate
        // Appended in place: a chain of `+` makes a new string at each step,
        // and a large graph has tens of thousands of frames to write at stop.
        var element = ""
        element.reserveCapacity(320 + 2 * name.utf8.count)
        element += "<g class=\"frame\" data-kind=\""
        element += kind
        element += "\" data-samples=\"\(box.samples)\" data-offset=\"\(box.offset)\" data-depth=\"\(box.depth)\"><title>"
        element += SVGEscaping.escaped(title)
        element += "</title><rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(frameHeight - 1)\""
        element += " rx=\"2\" ry=\"2\" fill=\""
        element += fill
        element += "\"/><text x=\"\(n(x + Canvas.labelPadding))\" y=\"\(n(y + Double(frameHeight) - 4))\">"
        element += SVGEscaping.escaped(fittedLabel(name, width: width))
        element += "</text></g>\n"
        return element
    }

    /// Estimated from an average glyph width rather than measured, so the
    /// output is the same on every machine; the script refits with the same
    /// rule after a zoom.
    static func fittedLabel(_ name: String, width: Double) -> String {
        let room = (width - 2 * Canvas.labelPadding) / Canvas.labelCharWidth
        guard room >= 3 else { return "" }
        let maxScalars = Int(room)
        let scalars = name.unicodeScalars
        guard scalars.count > maxScalars else { return name }
        return String(String.UnicodeScalarView(scalars.prefix(maxScalars - 2))) + ".."
    }
}

/// Fixed geometry of the drawing, in pixels.
private struct Canvas {
    static let sideMargin = 10.0
    static let labelFontSize = 12.0
    static let labelCharWidth = 0.6 * labelFontSize
    static let labelPadding = 3.0

    let width: Int
    let graphWidth: Double
    let topMargin: Double
    /// Room for the details line under the graph.
    let bottomMargin: Double
    let frameHeight: Int

    init(options: FlameGraphWriter.Options) {
        // Below these the controls overlap and labels never fit.
        width = max(options.width, 100)
        frameHeight = max(options.frameHeight, 6)
        graphWidth = Double(width) - 2 * Self.sideMargin
        topMargin = options.subtitle == nil ? 36 : 54
        bottomMargin = Double(2 * frameHeight + 4)
    }

    func pixelsPerSample(total: UInt64) -> Double {
        total == 0 ? 1 : graphWidth / Double(total)
    }

    func height(levels: Int) -> Int {
        Int(topMargin + bottomMargin) + levels * frameHeight
    }
}

/// Numbers as the SVG shows them, the same on every platform, unlike
/// `description` of a `Double`.
private enum SVGNumber {
    /// At most two decimals, without trailing zeros: "393.33", "10", "7.2".
    static func coordinate(_ value: Double) -> String {
        let hundredths = Int64((value * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let whole = hundredths.magnitude / 100
        let fraction = hundredths.magnitude % 100
        if fraction == 0 { return "\(sign)\(whole)" }
        if fraction % 10 == 0 { return "\(sign)\(whole).\(fraction / 10)" }
        return "\(sign)\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Always two decimals: "42.86", "100.00".
    static func percent(_ part: UInt64, of total: UInt64) -> String {
        let hundredths = UInt64((Double(part) * 10_000 / Double(max(total, 1))).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// "1234567" → "1,234,567".
    static func grouped(_ value: UInt64) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }
}

/// Colours from a hash of the frame name, so a function keeps its colour
/// from one run to the next and golden files stay stable; the family says
/// what kind of frame it is.
private enum FramePalette {
    static func fill(kind: Frame.Kind?, name: String) -> String {
        let (a, b, c) = hashFractions(name)
        func rgb(_ r: Double, _ g: Double, _ b: Double) -> String { "rgb(\(Int(r)),\(Int(g)),\(Int(b)))" }
        switch kind {
        case nil: return "rgb(208,208,212)"
        // Paler than native frames, whose "hot" range passes through orange too.
        case .kernel: return rgb(235 + 20 * a, 150 + 40 * b, 70 + 40 * c)
        case .native: return rgb(205 + 50 * a, 200 * b, 55 * c)
        case .python: return rgb(40 + 70 * c, 180 + 60 * a, 90 + 110 * b)
        case .process, .thread: return rgb(130 + 40 * a, 148 + 40 * a, 190 + 40 * b)
        case .annotation: return rgb(170 + 50 * a, 110 + 50 * b, 210 + 45 * c)
        }
    }

    /// FNV-1a, then a 64-bit finalizer to spread FNV's weak low bits;
    /// `Hasher` is seeded per process and would change colours every run.
    private static func hashFractions(_ name: String) -> (Double, Double, Double) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        func fraction(_ shift: UInt64) -> Double { Double((hash >> shift) & 0xffff) / 65535 }
        return (fraction(0), fraction(16), fraction(32))
    }
}
