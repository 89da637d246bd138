/// Fixed geometry of the drawing, in pixels.
struct FlameGraphCanvas {
    static let sideMargin = 10.0
    static let labelFontSize = 12.0
    static let labelCharWidth = 0.6 * labelFontSize
    static let labelPadding = 3.0

    let width: Int
    let graphWidth: Double
    /// Room for the title, and the line under it when there is one.
    var topMargin: Double
    static let twoLineTopMargin = 54.0
    /// Room for the details line under the graph.
    let bottomMargin: Double
    let frameHeight: Int

    init(options: FlameGraphWriter.Options) {
        // Below these the controls overlap and labels never fit.
        width = max(options.width, 100)
        frameHeight = max(options.frameHeight, 6)
        graphWidth = Double(width) - 2 * Self.sideMargin
        topMargin = options.subtitle == nil ? 36 : Self.twoLineTopMargin
        bottomMargin = Double(2 * frameHeight + 4)
    }

    func pixelsPerSample(total: UInt64) -> Double {
        total == 0 ? 1 : graphWidth / Double(total)
    }

    func height(levels: Int) -> Int {
        Int(topMargin + bottomMargin) + levels * frameHeight
    }

    /// At least one, however small the height; with room for the line
    /// under the title, which a graph cut to a window of levels has.
    func levels(fittingHeight height: Int) -> Int {
        max(1, (height - Int(Self.twoLineTopMargin + bottomMargin)) / frameHeight)
    }
}
