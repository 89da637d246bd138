import Glibc

/// The full-screen terminal `top` draws on, with a few VT100/xterm
/// sequences every terminal emulator in use understands (alternate screen,
/// cursor position, erase, inverse, cursor visibility) and termios for the
/// keys. `restore()` undoes everything `enter()` did, and is safe to call
/// twice; the owner calls it on every way out.
public final class Terminal {
    private let input: Int32
    private let output: Int32
    private var saved: termios?
    private var entered = false

    public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) {
        self.input = input
        self.output = output
    }

    deinit { restore() }

    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }

    /// Keys one at a time without echo; Ctrl-C still a signal (ISIG stays
    /// on) but Ctrl-Z off: stopped in the alternate screen, `top` would
    /// leave the shell unreadable.
    public func enter() {
        if Self.isTerminal(input) {
            var attributes = termios()
            if tcgetattr(input, &attributes) == 0 {
                saved = attributes
                attributes.c_lflag &= ~tcflag_t(ICANON | ECHO)
                withUnsafeMutableBytes(of: &attributes.c_cc) { cc in
                    cc[Int(VMIN)] = 0
                    cc[Int(VTIME)] = 0
                    cc[Int(VSUSP)] = 0  // _POSIX_VDISABLE on Linux
                }
                tcsetattr(input, TCSAFLUSH, &attributes)
            }
        }
        entered = true
        write("\u{1b}[?1049h\u{1b}[?25l\u{1b}[H\u{1b}[2J")
    }

    public func restore() {
        guard entered else { return }
        entered = false
        write("\u{1b}[0m\u{1b}[?25h\u{1b}[?1049l")
        if var attributes = saved {
            tcsetattr(input, TCSAFLUSH, &attributes)
            saved = nil
        }
    }

    /// Columns and rows; 80x24 if the terminal does not say.
    public var size: (width: Int, height: Int) {
        var window = winsize()
        guard ioctl(output, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0, window.ws_row > 0 else {
            return (80, 24)
        }
        return (Int(window.ws_col), Int(window.ws_row))
    }

    /// The bytes typed since the last call, without waiting.
    public func readInput() -> [UInt8] {
        guard saved != nil else { return [] }
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = bytes.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
        return count > 0 ? Array(bytes[0..<count]) : []
    }

    /// Draws the lines in one write, each at its row and erased to its end,
    /// so a refresh neither flickers nor scrolls.
    public func draw(_ lines: [TopScreen.Line], width: Int) {
        var frame = ""
        for (index, line) in lines.enumerated() {
            frame += "\u{1b}[\(index + 1);1H"
            switch line.style {
            case .plain:
                frame += line.text + "\u{1b}[K"
            case .inverse:
                // Short of the last column: writing there would wrap or
                // scroll on some terminals.
                frame += "\u{1b}[7m" + line.text.padding(max(width - 1, 0)) + "\u{1b}[0m\u{1b}[K"
            }
        }
        frame += "\u{1b}[J"
        write(frame)
    }

    /// The whole text, retried on EINTR and short writes; a closed terminal
    /// (EIO, EPIPE) is given up on: the session still stops cleanly.
    private func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(output, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
