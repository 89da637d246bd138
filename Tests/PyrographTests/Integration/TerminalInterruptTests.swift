import Foundation
import XCTest

/// Ctrl-C typed in a real terminal: the line discipline sends SIGINT to the
/// whole foreground process group, pyrograph and the `--` command together,
/// so the command's workers (which ignore SIGINT) see the signal at the
/// same moment pyrograph begins to stop.
final class TerminalInterruptTests: XCTestCase {
    func testCtrlCOnAPseudoTerminalWritesTheProfileAndLeavesNoWorker() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let output = directory.appendingPathComponent("ctrl-c.folded")
        let pidFile = directory.appendingPathComponent("pids")
        let driver = Process()
        driver.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        driver.arguments = ["-B", PythonInterpreters.script("pty_ctrl_c.py").path, "20", pidFile.path,
                            try TestSupport.pyrographBinary(), "record", "-o", output.path, "--",
                            "/usr/bin/python3", "-B", PythonInterpreters.script("forking_workers.py").path, pidFile.path]
        let stdout = Pipe()
        driver.standardOutput = stdout
        try driver.run()
        let text = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        driver.waitUntilExit()
        let pids = ((try? String(contentsOf: pidFile, encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace)
            .compactMap { Int32($0) }
        defer { for pid in pids { kill(pid, SIGKILL) } }
        XCTAssertEqual(pids.count, 4, "the command did not start its workers:\n\(text)")
        let result = try XCTUnwrap(text.split(separator: "\n").first)
        let fields = result.split(separator: " ")
        XCTAssertEqual(fields.first, "exit", text)
        // The command's status (SIGINT: 128 + 2), as a shell would report it.
        XCTAssertEqual(fields.count > 1 ? String(fields[1]) : "", "130", text)
        XCTAssertLessThan(Double(fields.last ?? "") ?? 99, 2, "stopping took too long:\n\(text)")
        XCTAssertTrue(text.contains("wrote \(output.path)"), text)
        XCTAssertGreaterThan(FoldedProfile(text: try String(contentsOf: output, encoding: .utf8)).total, 0, text)
        for pid in pids {
            XCTAssertFalse(Self.isRunning(pid), "pid \(pid) is still running after pyrograph exited\n\(text)")
        }
    }

    /// Alive and not a zombie waiting for a parent to reap it.
    private static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }
}
