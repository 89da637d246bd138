import Foundation
import XCTest

/// `--process-names cmdline`: process frames show the command line, so
/// workers of one program with the same comm are told apart.
final class ProcessNamesTests: XCTestCase {
    func testProcessFramesShowTheCommandLine() throws {
        try TestSupport.requireRoot()
        let interpreter = try PythonInterpreters.require("3.12")
        let output = try TestSupport.temporaryDirectory().appendingPathComponent("cmdline.folded")
        // A newline in an argument, as a program may pass one.
        let busy = "import sys, time\nend = time.time() + 0.5\nwhile time.time() < end: pass"
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
            "record", "--process-names", "cmdline", "-o", output.path, "--", interpreter.path, "-c", busy, "worker-7",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
        let roots = Set(profile.stacks.map { $0.frames[0] })
        let expected = "\(interpreter.path) -c import sys, time end = time.time() + 0.5 while time.time() < end: pass worker-7 ("
        XCTAssertTrue(roots.contains { $0.hasPrefix(expected) }, "roots: \(roots)")
    }

    func testTheDefaultIsTheComm() throws {
        try TestSupport.requireRoot()
        let interpreter = try PythonInterpreters.require("3.12")
        let output = try TestSupport.temporaryDirectory().appendingPathComponent("comm.folded")
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
            "record", "-o", output.path, "--", interpreter.path, "-c", "import time\nend = time.time() + 0.3\nwhile time.time() < end: pass",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
        let roots = Set(profile.stacks.map { $0.frames[0] })
        XCTAssertTrue(roots.contains { $0.hasPrefix("python") && $0.hasSuffix(")") }, "roots: \(roots)")
        XCTAssertFalse(roots.contains { $0.contains(" -c ") }, "roots: \(roots)")
    }
}
