import Foundation
import XCTest

/// `pyrograph top` in a real 80x24 terminal (tmux) against top_workload.py:
/// a `hot` process whose busiest function is hot_spin and a `warm` one whose
/// function name carries an escape sequence. Keys sort and filter; q and
/// Ctrl-C leave the terminal as they found it; piped, it prints snapshots.
final class TopTerminalTests: XCTestCase {
    private var workloads: [PythonRun] = []
    private var directory: URL!

    override func tearDown() {
        for run in workloads where run.process.isRunning { run.process.terminate() }
        workloads.removeAll()
    }

    /// One row of the screen, parsed back.
    struct Row {
        var own: Double, total: Double, ownSinceStart: Double, totalSinceStart: Double
        var pid: Int32
        var function: String

        init?(_ line: String) {
            let fields = line.split(separator: " ")
            guard fields.count >= 7, let own = Double(fields[0]), let total = Double(fields[1]),
                  let ownSince = Double(fields[2]), let totalSince = Double(fields[3]), let pid = Int32(fields[4])
            else { return nil }
            (self.own, self.total, ownSinceStart, totalSinceStart, self.pid) = (own, total, ownSince, totalSince, pid)
            function = fields[6...].joined(separator: " ")
        }
    }

    /// The rows under the column headings.
    static func rows(_ screen: [String]) -> [Row] {
        guard let heading = screen.firstIndex(where: { $0.contains("OWN%") && $0.contains("FUNCTION") }) else { return [] }
        return screen[(heading + 1)...].compactMap(Row.init)
    }

    private func startWorkloads() throws -> (hot: Int32, warm: Int32) {
        try TestSupport.requireRoot()
        let python = try PythonInterpreters.require("3.12")
        directory = try TestSupport.temporaryDirectory()
        let script = PythonInterpreters.script("top_workload.py")
        workloads = [try python.start(script, ["hot"], in: directory), try python.start(script, ["warm"], in: directory)]
        return (workloads[0].process.processIdentifier, workloads[1].process.processIdentifier)
    }

    /// top in tmux; the shell around it saves `stty -g` before and after, and
    /// top's exit status.
    private func startTop(_ pids: (hot: Int32, warm: Int32)) throws -> TmuxSession {
        let binary = try TestSupport.pyrographBinary()
        let path = directory.path
        return try TmuxSession(width: 80, height: 24, command: """
            stty -g > \(path)/stty-before; \(binary) top -p \(pids.hot) -p \(pids.warm) 2> \(path)/top.stderr; \
            echo $? > \(path)/top.status; stty -g > \(path)/stty-after; sleep 600
            """)
    }

    /// top exited 0 and the terminal is back: main screen, cursor shown,
    /// the same termios settings as before.
    private func checkRestored(_ tmux: TmuxSession) throws {
        let statusFile = directory.appendingPathComponent("top.status")
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("stty-after").path), Date() < deadline {
            usleep(50_000)
        }
        let stderr = (try? String(contentsOf: directory.appendingPathComponent("top.stderr"), encoding: .utf8)) ?? ""
        XCTAssertEqual(try String(contentsOf: statusFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), "0",
                       stderr)
        XCTAssertEqual(try tmux.display("#{alternate_on}"), "0", "top left the alternate screen on")
        XCTAssertEqual(try tmux.display("#{cursor_flag}"), "1", "top left the cursor hidden")
        let before = try String(contentsOf: directory.appendingPathComponent("stty-before"), encoding: .utf8)
        let after = try String(contentsOf: directory.appendingPathComponent("stty-after"), encoding: .utf8)
        XCTAssertEqual(before, after, "top left the terminal's settings changed")
    }

    func testBusiestFunctionFirstKeysSortFilterPauseAndQRestores() throws {
        let pids = try startWorkloads()
        let tmux = try startTop(pids)
        guard let drawn = try tmux.waitForScreen(timeout: 30, { $0.first?.hasPrefix("pyrograph top:") ?? false }) else {
            return XCTFail("top never drew its screen:\n\(tmux.text)")
        }
        let drawnAt = Date()
        XCTAssertEqual(try tmux.display("#{alternate_on}"), "1", "top draws on the alternate screen")
        XCTAssertEqual(drawn.last, "q quit  space pause  o/t/n sort own/total/name  w window  p process  a all")
        let first = try tmux.waitForScreen(timeout: 3) { Self.rows($0).first?.function == "hot_spin (top_workload.py)" }
        print("top: hot_spin on the first line \(String(format: "%.2f", Date().timeIntervalSince(drawnAt))) s after the first draw")
        XCTAssertNotNil(first, "hot_spin is not on the first line 3 s after top started:\n\(tmux.text)")
        guard first != nil else { return try tmux.send("q") }

        // Total: the callers of everything (outer, <module>) come first.
        try tmux.send("t")
        let byTotal = try tmux.waitForScreen(timeout: 2) { $0.contains { $0.contains("sort: total") } && Self.rows($0).count >= 4 }
        let totalRows = Self.rows(byTotal ?? [])
        XCTAssertTrue(["outer (top_workload.py)", "<module> (top_workload.py)"].contains(totalRows.first?.function ?? ""),
                      "\(totalRows.map(\.function))")
        XCTAssertEqual(totalRows.map(\.total), totalRows.map(\.total).sorted(by: >), "rows by total share")
        // Name: A to Z.
        try tmux.send("n")
        let byName = Self.rows(try tmux.waitForScreen(timeout: 2) { $0.contains { $0.contains("sort: name") } } ?? [])
        XCTAssertEqual(byName.map(\.function), byName.map(\.function).sorted(), "rows by name")
        XCTAssertEqual(byName.first?.function, "<module> (top_workload.py)")
        // Own, again.
        try tmux.send("o")
        let byOwn = Self.rows(try tmux.waitForScreen(timeout: 2) { $0.contains { $0.contains("sort: own") } } ?? [])
        XCTAssertEqual(byOwn.map(\.own), byOwn.map(\.own).sorted(by: >), "rows by own share")

        // The process filter: the busiest process, then the other, then all.
        try tmux.send("p")
        let hotOnly = try tmux.waitForScreen(timeout: 2) { $0.contains { $0.contains("process: ") && $0.contains(" (\(pids.hot))") } }
        XCTAssertNotNil(hotOnly, "p did not filter to the hot process")
        XCTAssertEqual(Set(Self.rows(hotOnly ?? []).map(\.pid)), [pids.hot])
        try tmux.send("p")
        let warmOnly = try tmux.waitForScreen(timeout: 2) { $0.contains { $0.contains("process: ") && $0.contains(" (\(pids.warm))") } }
        XCTAssertEqual(Set(Self.rows(warmOnly ?? []).map(\.pid)), [pids.warm])
        // Its name reaches the terminal escaped (an ESC would not survive
        // capture-pane as text; the escape's visible form does).
        let warmFunction = Self.rows(warmOnly ?? []).first?.function ?? ""
        XCTAssertTrue(warmFunction.hasPrefix("warm\\x1b]0;pwned\\x07 (top_wor"), warmFunction)
        try tmux.send("a")
        let all = try tmux.waitForScreen(timeout: 3) { screen in
            screen.contains { $0.contains("process: all") } && Set(Self.rows(screen).map(\.pid)) == [pids.hot, pids.warm]
        }
        XCTAssertNotNil(all, "a did not show every process again")

        // Pause: the figures and the clock stand still.
        try tmux.send("Space")
        let paused = try tmux.waitForScreen(timeout: 2) { $0.first?.contains("[PAUSED]") ?? false }
        XCTAssertNotNil(paused)
        usleep(1_500_000)
        XCTAssertEqual(try tmux.screen().first, paused?.first, "the paused screen changed")
        try tmux.send("Space")
        XCTAssertNotNil(try tmux.waitForScreen(timeout: 3) { !($0.first?.contains("[PAUSED]") ?? true) && $0.first != paused?.first })

        // Resize: the screen fills the new size.
        try tmux.resize(width: 100, height: 30)
        let resized = try tmux.waitForScreen(timeout: 2) { $0.count >= 30 && $0[29].hasPrefix("q quit") }
        XCTAssertNotNil(resized, "top did not redraw at 100x30:\n\(tmux.text)")

        try tmux.send("q")
        try checkRestored(tmux)
    }

    func testCtrlCRestoresTheTerminal() throws {
        let pids = try startWorkloads()
        let tmux = try startTop(pids)
        let running = try tmux.waitForScreen(timeout: 30) { !Self.rows($0).isEmpty }
        XCTAssertNotNil(running, "top showed no rows:\n\(tmux.text)")
        XCTAssertEqual(try tmux.display("#{alternate_on}"), "1")
        try tmux.send("C-c")
        try checkRestored(tmux)
    }

    func testPipedOutputIsPlainEscapedSnapshots() throws {
        let pids = try startWorkloads()
        let recording = try RunningTop(arguments: ["top", "-p", "\(pids.hot)", "-p", "\(pids.warm)"])
        try recording.waitUntilSampling()
        let deadline = Date().addingTimeInterval(15)
        while recording.stdout.components(separatedBy: "pyrograph top:").count <= 3 && Date() < deadline { usleep(50_000) }
        kill(recording.process.processIdentifier, SIGINT)
        XCTAssertEqual(recording.wait(), 0, recording.stderr)
        let output = recording.stdout
        let snapshots = output.components(separatedBy: "\n\n").filter { $0.hasPrefix("pyrograph top:") }
        XCTAssertGreaterThanOrEqual(snapshots.count, 2, output)
        XCTAssertFalse(output.utf8.contains(0x1b), "an escape byte reached stdout")
        XCTAssertFalse(output.contains("\u{1b}[?1049h"), "no full-screen sequences into a pipe")
        for snapshot in snapshots.dropFirst() {
            let rows = Self.rows(snapshot.components(separatedBy: "\n"))
            XCTAssertEqual(rows.first?.function, "hot_spin (\(PythonInterpreters.script("top_workload.py").path))", snapshot)
        }
        XCTAssertTrue(output.contains("warm\\x1b]0;pwned\\x07 ("), output)
    }
}

/// pyrograph with stdout and stderr both collected.
private final class RunningTop {
    let process = Process()
    private let out = Pipe(), err = Pipe()
    private var collected = (out: Data(), err: Data())
    private let lock = NSLock()

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: try TestSupport.pyrographBinary())
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in self?.append(handle.availableData, error: false) }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in self?.append(handle.availableData, error: true) }
        try process.run()
    }

    private func append(_ data: Data, error: Bool) {
        lock.lock()
        if error { collected.err.append(data) } else { collected.out.append(data) }
        lock.unlock()
    }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: collected.out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: collected.err, as: UTF8.self) }

    func waitUntilSampling(timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && !stderr.contains("snapshot every second") && process.isRunning { usleep(20_000) }
        guard stderr.contains("snapshot every second") else {
            XCTFail("top did not start: \(stderr)")
            throw CancellationError()
        }
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        usleep(100_000)
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        return process.terminationStatus
    }
}
