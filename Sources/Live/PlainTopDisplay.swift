import Glibc

/// `top` into a pipe or a file: a snapshot per interval, nothing else.
public final class PlainTopDisplay: TopDisplay {
    private let output: Int32
    public private(set) var isOpen = true

    public init(output: Int32 = STDOUT_FILENO) {
        self.output = output
    }

    public func pressedKeys() -> [TopKey] { [] }

    public func needsRedraw() -> Bool { false }

    public func show(_ content: TopContent, intervalEnded: Bool) {
        guard intervalEnded, isOpen else { return }
        var bytes = Array(TopSnapshotText.text(content).utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(output, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            // The reader went away (`| head`): nothing more to show.
            guard written > 0 else {
                isOpen = false
                return
            }
            offset += written
        }
    }
}
