import Foundation
import XCTest

/// A real terminal for full-screen tests: a detached tmux session on its
/// own server socket, driven with send-keys and read with capture-pane.
final class TmuxSession {
    static let tmux = "/usr/bin/tmux"
    private let socket = "pyrograph-test-\(UUID().uuidString.prefix(8))"
    private let name = "top"

    /// Runs `command` with bash in a `width`x`height` terminal.
    init(width: Int, height: Int, command: String) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.tmux) else {
            XCTFail("tmux is missing: `make deps` installs it")
            throw CancellationError()
        }
        // The server it starts keeps every descriptor it inherits open, and
        // Foundation's Process sees its child end only when they close: the
        // shell closes all but 0-2 first, then gives tmux /dev/null.
        let closeInherited = "for fd in $(ls /proc/$$/fd); do [ $fd -gt 2 ] && eval \"exec $fd>&-\"; done; "
        let newSession = [Self.tmux, "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", name,
                          "-x", "\(width)", "-y", "\(height)", "bash --norc --noprofile -c \(Self.quoted(command))"]
        let started = try TestSupport.run("/bin/bash", ["-c", closeInherited + "exec "
            + newSession.map(Self.quoted).joined(separator: " ") + " </dev/null >/dev/null 2>&1"])
        XCTAssertEqual(started.status, 0, "tmux new-session failed")
    }

    deinit { _ = try? tmux(["kill-server"]) }

    /// Key names as tmux knows them: "q", "Space", "C-c".
    func send(_ keys: String...) throws {
        _ = try tmux(["send-keys", "-t", name] + keys)
    }

    func resize(width: Int, height: Int) throws {
        _ = try tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
    }

    /// The screen's lines, one per row.
    func screen() throws -> [String] {
        var lines = try tmux(["capture-pane", "-p", "-t", name]).stdout
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }  // after the last row's newline
        return lines
    }

    /// The screen as one text, for failure messages.
    var text: String { (try? screen())?.joined(separator: "\n") ?? "" }

    /// A tmux format of the pane, such as `#{alternate_on}` or `#{cursor_flag}`.
    func display(_ format: String) throws -> String {
        try tmux(["display-message", "-p", "-t", name, format]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Polls the screen until `done` holds; nil after `timeout` seconds.
    func waitForScreen(timeout: Double, _ done: ([String]) -> Bool) throws -> [String]? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let lines = try screen()
            if done(lines) { return lines }
            usleep(50_000)
        } while Date() < deadline
        return nil
    }

    private func tmux(_ arguments: [String]) throws -> TestSupport.Finished {
        try TestSupport.run(Self.tmux, ["-L", socket, "-f", "/dev/null"] + arguments)
    }

    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
