import Foundation
import XCTest
@testable import ProcessInspection

/// -p of a kernel thread or a zombie is refused before sampling; a -p
/// recording ends by itself once its processes are gone.
final class ProcessTargetLiveTests: XCTestCase {
    func testKernelThreadIsRejectedBeforeSampling() throws {
        try TestSupport.requireRoot()
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), ["record", "-d", "1", "-p", "2", "-o", "/dev/null"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("-p 2 is a kernel thread"), result.stderr)
        XCTAssertFalse(result.stderr.contains("recording"), result.stderr)
    }

    /// `sleep 0.1` is left unreaped by the `sleep 30` its parent shell
    /// became.
    func testZombieIsRejectedBeforeSampling() throws {
        try TestSupport.requireRoot()
        let parent = try Process.run(URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "sleep 0.1 & exec sleep 30"])
        defer { parent.terminate(); parent.waitUntilExit() }
        var zombie: Int32?
        let deadline = Date().addingTimeInterval(5)
        while zombie == nil && Date() < deadline {
            usleep(50_000)
            zombie = ProcessStatus.all().first { $0.parent == parent.processIdentifier && $0.isZombie }?.pid
        }
        let pid = try XCTUnwrap(zombie, "no zombie appeared")
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), ["record", "-d", "1", "-p", "\(pid)", "-o", "/dev/null"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("-p \(pid) has exited"), result.stderr)
        XCTAssertFalse(result.stderr.contains("recording"), result.stderr)
    }

    /// The target exits after 0.5 s, leaving a child it forked that burns
    /// CPU for 2 s: the recording (no -d) follows the child to its end, then
    /// stops, says why and writes the profile with the child's samples.
    func testRecordingEndsWhenEveryTargetHasExited() throws {
        try TestSupport.requireRoot()
        let script = """
            import os, time
            if os.fork() == 0:
                end = time.time() + 2
                while time.time() < end: pass
                os._exit(0)
            time.sleep(0.5)
            """
        let parent = try Process.run(URL(fileURLWithPath: "/usr/bin/python3"), arguments: ["-c", script])
        defer { parent.terminate(); parent.waitUntilExit() }
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("profile.folded")
        let started = Date()
        let recording = try RunningRecording(arguments: ["record", "-p", "\(parent.processIdentifier)", "-o", output.path])
        let watchdog = DispatchWorkItem { kill(recording.process.processIdentifier, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 20, execute: watchdog)
        XCTAssertEqual(recording.wait(), 0, recording.stderr)
        watchdog.cancel()
        let seconds = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(seconds, 1.5, "stopped before the child had exited:\n\(recording.stderr)")
        XCTAssertLessThan(seconds, 5, "did not stop once the processes were gone:\n\(recording.stderr)")
        XCTAssertTrue(recording.stderr.contains("stopped: every process given with -p (and its children) has exited"),
                      recording.stderr)
        let samples = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
            .compactMap { line in Int(line.split(separator: " ").last ?? "") }.reduce(0, +)
        XCTAssertGreaterThan(samples, 100, "the child's 2 s of CPU at 99 Hz")
    }
}
