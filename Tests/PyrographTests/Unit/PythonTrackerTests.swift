import CPyrograph
import Foundation
import XCTest
@testable import Recording
import PythonRuntime
import Symbolization

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

    /// An interpreter made unreadable on purpose (Debian's 3.14 with its
    /// _Py_DebugOffsets cookie corrupted in a copy) is still put in the
    /// filter, gets no layout, and its samples get a symbolizer that says why.
    func testAnUnreadableInterpreterIsStillProfiledWithItsReason() throws {
        let root = PythonInterpreters.debianRoot
        guard FileManager.default.fileExists(atPath: root + "/.pyrograph-complete") else {
            throw XCTSkip("\(root) is missing: run Tests/Interpreters/debian-unstable.sh (make test does)")
        }
        guard geteuid() == 0 else { throw XCTSkip("running an interpreter in \(root) takes chroot, which takes root") }
        let directory = "/tmp/pyrograph-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root + directory) }
        let copy = root + directory + "/python3.14"
        try FileManager.default.copyItem(atPath: root + "/usr/bin/python3.14", toPath: copy)
        var binary = try Data(contentsOf: URL(fileURLWithPath: copy))
        let cookie = Data("xdebugpy".utf8)
        // The table, not the string .rodata also holds: the cookie followed
        // by PY_VERSION_HEX 3.14.
        var searched = binary.startIndex..<binary.endIndex
        var patched = 0
        while let at = binary.range(of: cookie, in: searched) {
            searched = at.upperBound..<binary.endIndex
            guard at.upperBound + 4 <= binary.endIndex, binary[at.upperBound + 3] == 3, binary[at.upperBound + 2] == 14
            else { continue }
            binary.replaceSubrange(at, with: Data("xdebugpX".utf8))
            patched += 1
        }
        XCTAssertEqual(patched, 1, "one _Py_DebugOffsets in python3.14")
        try binary.write(to: URL(fileURLWithPath: copy))

        let python = try LineDrivenProcess("/usr/sbin/chroot", [root, directory + "/python3.14", "-c",
                                                                "import time; print('ready', flush=True); time.sleep(30)"])
        defer { python.stop() }
        try python.waitFor("ready")
        let maps = MemoryMaps()
        let tracker = PythonTracker(maps: maps, targetsPython: true, excluding: [])
        var detected: [Int32] = []
        tracker.onDetected = { detected.append($0) }
        tracker.inspect(pids: [python.pid])
        XCTAssertTrue(maps.layouts.isEmpty, "no layout for an unreadable interpreter")
        XCTAssertEqual(maps.targets, [python.pid], "still profiled")
        XCTAssertEqual(detected, [python.pid], "native unwind tables prepared")
        let symbolizer = try XCTUnwrap(tracker.symbolizer(for: python.pid, sampleHasPython: false))
        let refusal = try XCTUnwrap(symbolizer.process.refusal)
        let text = refusal.frameText(symbolizer.process.version)
        XCTAssertTrue(text.hasPrefix("python 3.14.") && text.hasSuffix(": _Py_DebugOffsets not found"), text)
        XCTAssertEqual(tracker.unsupportedSummary.listed.map(\.pid), [python.pid])
        tracker.inspect(pids: [python.pid])
        XCTAssertEqual(tracker.unsupportedSummary.processes.values.reduce(0, +), 1, "a process looked at again is one process")
    }

    /// A 3.14 whose `_PyRuntime` symbol is gone (renamed in a copy's
    /// dynamic string table, as stripping a static symbol table would leave
    /// it) is found by its `.PyRuntime` section and walked.
    func testAnInterpreterWithoutTheRuntimeSymbolIsFoundByItsSection() throws {
        let root = PythonInterpreters.debianRoot
        guard FileManager.default.fileExists(atPath: root + "/.pyrograph-complete") else {
            throw XCTSkip("\(root) is missing: run Tests/Interpreters/debian-unstable.sh (make test does)")
        }
        guard geteuid() == 0 else { throw XCTSkip("running an interpreter in \(root) takes chroot, which takes root") }
        let directory = "/tmp/pyrograph-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root + directory) }
        let copy = root + directory + "/python3.14"
        try FileManager.default.copyItem(atPath: root + "/usr/bin/python3.14", toPath: copy)
        var binary = try Data(contentsOf: URL(fileURLWithPath: copy))
        let name = try XCTUnwrap(binary.range(of: Data("\0_PyRuntime\0".utf8)), "no _PyRuntime in python3.14's strings")
        binary.replaceSubrange(name, with: Data("\0_PyRuntimX\0".utf8))
        try binary.write(to: URL(fileURLWithPath: copy))
        XCTAssertNil(try ELFFile.symbolValues(path: copy, names: ["_PyRuntime"])["_PyRuntime"])

        let python = try LineDrivenProcess("/usr/sbin/chroot", [root, directory + "/python3.14", "-c",
                                                                "import time; print('ready', flush=True); time.sleep(30)"])
        defer { python.stop() }
        try python.waitFor("ready")
        let detected = try XCTUnwrap(PythonProcessDetector().detect(pid: python.pid))
        XCTAssertNil(detected.refusal, detected.unsupportedReason ?? "")
        let section = try XCTUnwrap(try ELFFile.sectionAddress(path: copy, named: ".PyRuntime"))
        let layout = try XCTUnwrap(detected.layout)
        XCTAssertEqual(detected.interpreterHeadAddress, section + UInt64(try XCTUnwrap(layout.runtimeInterpretersHead)),
                       "a non-PIE python3.14: the section's address is _PyRuntime's")
    }
}
