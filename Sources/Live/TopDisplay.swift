/// Where `top` shows its content: the full-screen terminal view, or plain
/// snapshots when stdout is not a terminal.
public protocol TopDisplay: AnyObject {
    /// Keys pressed since the last call.
    func pressedKeys() -> [TopKey]
    /// The display changed (a resized terminal) and should be drawn again.
    func needsRedraw() -> Bool
    /// `intervalEnded`: a new interval's figures, rather than a redraw for
    /// a key or a resize.
    func show(_ content: TopContent, intervalEnded: Bool)
    /// False once the display can no longer be written (a closed pipe).
    var isOpen: Bool { get }
}

/// The full-screen view, redrawn on every interval, key and resize.
public final class TerminalTopDisplay: TopDisplay {
    private let terminal: Terminal
    private var drawnSize: (width: Int, height: Int)?

    public init(terminal: Terminal) {
        self.terminal = terminal
    }

    public var isOpen: Bool { true }

    public func pressedKeys() -> [TopKey] { TopKey.parse(terminal.readInput()) }

    public func needsRedraw() -> Bool {
        guard let drawnSize else { return true }
        return terminal.size != drawnSize
    }

    public func show(_ content: TopContent, intervalEnded: Bool) {
        let size = terminal.size
        drawnSize = size
        terminal.draw(TopScreen.lines(content, width: size.width, height: size.height), width: size.width)
    }
}
