import Foundation
import XCTest

/// The kernel's mapping events: sent when a profiled process maps code, and
/// only then.
final class MappingEventTests: XCTestCase {
    /// A profiled process maps a file readable fifty times, then executable
    /// once, while a process outside -p maps it executable fifty times: one
    /// event in all.
    func testOnlyCodeMappedByProfiledProcessesIsAnEvent() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let file = directory.appendingPathComponent("pages")
        try Data(count: 8192).write(to: file)
        let interpreter = try XCTUnwrap(PythonInterpreters.all.first { $0.label.hasPrefix("3.12") })
        let script = PythonInterpreters.script("mapper.py").path
        let profiled = try LineDrivenProcess(interpreter.path, [script, file.path])
        let other = try LineDrivenProcess(interpreter.path, [script, file.path])
        defer { profiled.stop(); other.stop() }
        try profiled.waitFor("ready")
        try other.waitFor("ready")

        let output = directory.appendingPathComponent("mapper.folded")
        let recording = try RunningRecording(arguments: ["record", "-d", "2", "-p", String(profiled.pid), "-o", output.path])
        try recording.waitUntilSampling()
        profiled.send("read 50")
        try profiled.waitFor("done")
        other.send("exec 50")
        try other.waitFor("done")
        profiled.send("exec 1")
        try profiled.waitFor("done")
        XCTAssertEqual(recording.wait(), 0, recording.stderr)

        let reReads = try XCTUnwrap(TestSupport.mapsReReadForMappingEvents(recording.stderr),
                                    "no mapping events:\n\(recording.stderr)")
        XCTAssertEqual(reReads.events, 1, recording.stderr)
        XCTAssertEqual(reReads.reReads, 1, recording.stderr)
    }
}
