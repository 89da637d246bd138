import CPyrograph
import Foundation
import XCTest
@testable import Recording

/// The tracker's decisions about real processes, with the BPF maps in memory.
final class PythonTrackerTests: XCTestCase {
    final class MemoryMaps: ProcessMapWriter {
        var targets = Set<Int32>()
        var layouts: [Int32: pyro_python_layout] = [:]
        func addTarget(pid: Int32) throws { targets.insert(pid) }
        func setPythonLayout(pid: Int32, layout: pyro_python_layout) throws { layouts[pid] = layout }
    }

    func testAnInterpreterGetsItsLayoutAndIsTargeted() throws {
        let python = try LineDrivenProcess("/usr/bin/python3.11", [PythonInterpreters.script("library_cycler.py").path])
        defer { python.stop() }
        try python.waitFor("ready")
        let maps = MemoryMaps()
        let tracker = PythonTracker(maps: maps, targetsPython: true, excluding: [])
        var detected: [Int32] = []
        tracker.onDetected = { detected.append($0) }
        tracker.inspect(pids: [python.pid])
        let layout = try XCTUnwrap(maps.layouts[python.pid], "no layout for a live 3.11")
        XCTAssertEqual(layout.version_hex >> 16, 0x030b, "the version read from the process's memory")
        XCTAssertNotEqual(layout.interpreter_head_address, 0)
        XCTAssertEqual(maps.targets, [python.pid])
        XCTAssertEqual(detected, [python.pid])
        XCTAssertNotNil(tracker.symbolizer(for: python.pid, sampleHasPython: false))
    }

    func testOtherProgramsAreLeftAlone() throws {
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { sleeper.terminate(); sleeper.waitUntilExit() }
        let maps = MemoryMaps()
        let tracker = PythonTracker(maps: maps, targetsPython: true, excluding: [])
        tracker.inspect(pids: [sleeper.processIdentifier])
        XCTAssertTrue(maps.layouts.isEmpty)
        XCTAssertTrue(maps.targets.isEmpty)
        XCTAssertNil(tracker.symbolizer(for: sleeper.processIdentifier, sampleHasPython: false))
    }

    /// An exited interpreter still names the samples in flight, then is
    /// forgotten; what its symbolizer counted is kept.
    func testExitedInterpretersAreForgottenAfterAWhile() throws {
        let python = try LineDrivenProcess("/usr/bin/python3.11", [PythonInterpreters.script("library_cycler.py").path])
        try python.waitFor("ready")
        let tracker = PythonTracker(maps: MemoryMaps(), targetsPython: true, excluding: [])
        tracker.inspect(pids: [python.pid])
        python.stop()
        tracker.processExited(python.pid, now: 10)
        tracker.evictRetired(now: 11)
        XCTAssertNotNil(tracker.symbolizer(for: python.pid, sampleHasPython: false), "kept for samples in flight")
        tracker.evictRetired(now: 13)
        XCTAssertNil(tracker.symbolizer(for: python.pid, sampleHasPython: false))
        XCTAssertTrue(tracker.symbolizers.isEmpty)
    }
}
