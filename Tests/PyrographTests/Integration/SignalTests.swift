import Foundation
import XCTest

/// How pyrograph meets signals: a hangup stops it like SIGTERM, a closed
/// stderr does not kill it, and a stop takes the `--` command's processes
/// down with it.
final class SignalTests: XCTestCase {
    /// Something to sample on an idle host: the burn fixture for `seconds`.
    private func startBurner(seconds: Double, in directory: URL) throws -> Process {
        let burn = try TestSupport.compileFixture("burn", into: directory)
        return try Process.run(burn, arguments: ["\(seconds)"])
    }

    func testSIGHUPStopsAndWritesTheProfile() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let output = directory.appendingPathComponent("hup.folded")
        let burner = try startBurner(seconds: 3, in: directory)
        defer { burner.terminate(); burner.waitUntilExit() }
        let recording = try RunningRecording(arguments: ["record", "--all", "-o", output.path])
        try recording.waitUntilSampling()
        usleep(300_000)
        kill(recording.process.processIdentifier, SIGHUP)
        XCTAssertEqual(recording.waitAtMost(seconds: 10), 0, recording.stderr)
        XCTAssertGreaterThan(FoldedProfile(text: try String(contentsOf: output, encoding: .utf8)).total, 0)
        XCTAssertTrue(recording.stderr.contains("wrote \(output.path)"), recording.stderr)
    }

    /// stderr is a pipe whose reader has gone: every message pyrograph
    /// writes fails with EPIPE, and the profile must still be written.
    func testClosedStderrPipeDoesNotKillIt() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let output = directory.appendingPathComponent("epipe.folded")
        let burner = try startBurner(seconds: 3, in: directory)
        defer { burner.terminate(); burner.waitUntilExit() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestSupport.pyrographBinary())
        process.arguments = ["record", "--all", "-d", "1", "-o", output.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try errors.fileHandleForReading.close()
        try process.run()
        try errors.fileHandleForWriting.close()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit, "killed by signal \(process.terminationStatus)")
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertGreaterThan(FoldedProfile(text: try String(contentsOf: output, encoding: .utf8)).total, 0)
    }

    /// SIGINT sent to pyrograph alone (not a terminal's Ctrl-C, which
    /// reaches the command too) must stop the command and the workers it
    /// forked, even workers that ignore SIGINT.
    func testSIGINTStopsTheCommandAndItsWorkers() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let output = directory.appendingPathComponent("workers.folded")
        let pidFile = directory.appendingPathComponent("pids")
        let script = PythonInterpreters.script("forking_workers.py")
        let recording = try RunningRecording(arguments: ["record", "-o", output.path, "--",
                                                         "/usr/bin/python3", "-B", script.path, pidFile.path])
        try recording.waitUntilSampling()
        var pids: [Int32] = []
        let deadline = Date().addingTimeInterval(10)
        while pids.count < 4 && Date() < deadline {
            pids = ((try? String(contentsOf: pidFile, encoding: .utf8)) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
                .compactMap { Int32($0) }
            usleep(50_000)
        }
        XCTAssertEqual(pids.count, 4, "the command did not start its workers")
        usleep(300_000)
        let signalled = Date()
        let pyrograph = recording.process.processIdentifier
        recording.process.interrupt()
        // Not Process.isRunning: Foundation counts a process as running
        // while any descendant holds its exit pipe, which leftover workers do.
        while Self.isRunning(pyrograph) && Date().timeIntervalSince(signalled) < 10 { usleep(10_000) }
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 2, recording.stderr)
        for pid in pids {
            XCTAssertFalse(Self.isRunning(pid), "pid \(pid) is still running after pyrograph exited")
        }
        for pid in pids + [pyrograph] where Self.isRunning(pid) { kill(pid, SIGKILL) }
        _ = recording.wait()
        XCTAssertGreaterThan(FoldedProfile(text: try String(contentsOf: output, encoding: .utf8)).total, 0, recording.stderr)
    }

    /// `-d` ends the recording, not the command: it is left running, and
    /// the summary says so with its pid.
    func testDurationLeavesTheCommandRunningAndSaysSo() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let output = directory.appendingPathComponent("duration.folded")
        let command = "import time\nt = time.time()\nwhile time.time() - t < 1.5: pass\ntime.sleep(30)\n"
        // stderr to a file and pyrograph's exit seen in /proc: Foundation
        // waits for every process holding a pipe it made, the command too.
        let errors = directory.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestSupport.pyrographBinary())
        process.arguments = ["record", "-d", "1", "-o", output.path, "--", "/usr/bin/python3", "-c", command]
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let started = Date()
        while Self.isRunning(process.processIdentifier) && Date().timeIntervalSince(started) < 20 { usleep(20_000) }
        let stderr = try String(contentsOf: errors, encoding: .utf8)
        let line = stderr.split(separator: "\n").first { $0.contains("is still running") }
        let pid = line.flatMap { $0.split(separator: "(").last?.split(separator: ")").first }
            .flatMap { Int32($0.replacingOccurrences(of: "pid ", with: "")) }
        XCTAssertNotNil(pid, stderr)
        if let pid {
            XCTAssertTrue(Self.isRunning(pid), "the command was stopped")
            kill(pid, SIGKILL)
        }
        // Only now: Foundation's wait also waits for the command.
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, stderr)
        XCTAssertGreaterThan(FoldedProfile(text: try String(contentsOf: output, encoding: .utf8)).total, 0, stderr)
    }

    /// Alive and not a zombie waiting for a parent to reap it.
    private static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }
}
