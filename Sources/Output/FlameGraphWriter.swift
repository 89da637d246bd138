import Aggregation

/// A self-contained, interactive SVG flame graph: the root at the bottom,
/// callees stacked above their callers (or hanging below, with `icicle`),
/// widths proportional to samples. Hover, zoom and search live in
/// `Assets/flamegraph.js`, embedded at build time; the script reads its
/// geometry from the `data-` attributes written here, so the two cannot
/// disagree about the layout. Widths are the profile's default sample type.
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
        /// The root at the top and callees below it: a deep graph then opens
        /// on its root whatever viewer shows it, script or not.
        public var icicle: Bool
        /// Of the whole image, in pixels: a deeper graph opens on the levels
        /// where most samples end and scrolls over the rest. nil draws every
        /// level, however tall that makes it.
        public var maximumHeight: Int?

        public init(
            title: String = "pyrograph",
            subtitle: String? = nil,
            width: Int = 1200,
            frameHeight: Int = 16,
            minimumFrameWidth: Double = 0.1,
            icicle: Bool = false,
            maximumHeight: Int? = 800
        ) {
            self.title = title
            self.subtitle = subtitle
            self.width = width
            self.frameHeight = frameHeight
            self.minimumFrameWidth = minimumFrameWidth
            self.icicle = icicle
            self.maximumHeight = maximumHeight
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
        var out = ChunkedText(stream)
        try Self.draw(profile, options: options, script: EmbeddedAssets.flamegraphJS,
                      style: EmbeddedAssets.flamegraphCSS) { try out.append($0) }
        try out.flush()
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
        var svg = ""
        draw(profile, options: options, script: script, style: style) { svg += $0 }
        return svg
    }

    /// The document, handed to `emit` a piece at a time.
    static func draw(_ profile: Profile, options: Options, script: String, style: String,
                     emit: (String) throws -> Void) rethrows {
        let minimum = FlameGraphSVG.minimumSamples(options: options, total: profile.totals[profile.defaultSampleType])
        let tree = FlameGraphTree(profile: profile, minimumSamples: minimum)
        KeptUntilExit.keep(tree)
        let drawing = FlameGraphSVG(tree: tree, options: options)
        let total = drawing.layout.totalSamples
        try drawing.render(script: script, style: style, decorate: { box in
            let share = SVGNumber.percent(box.samples, of: total)
            let noun = box.samples == 1 ? "sample" : "samples"
            return .init(
                fill: FramePalette.fill(kind: box.kind, name: box.name),
                title: "\(SVGEscaping.displayable(box.name)) (\(SVGNumber.grouped(box.samples)) \(noun), \(share)%)"
            )
        }, emit: emit)
    }
}
