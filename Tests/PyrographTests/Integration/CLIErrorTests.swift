import Foundation
import XCTest

/// Bad input gets a clear message and a non-zero exit, before sampling.
final class CLIErrorTests: XCTestCase {
    private func record(_ arguments: [String]) throws -> TestSupport.Finished {
        try TestSupport.run(try TestSupport.pyrographBinary(), ["record"] + arguments)
    }

    func testUnknownPID() throws {
        try TestSupport.requireRoot()
        let result = try record(["-p", "999999999", "-d", "1", "-o", "/tmp/never.svg"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("no process with pid 999999999"), result.stderr)
        XCTAssertFalse(result.stderr.contains("recording"), "must fail before sampling: \(result.stderr)")
    }

    func testUnwritableOutput() throws {
        try TestSupport.requireRoot()
        let result = try record(["-d", "1", "-o", "/nonexistent-dir/x.svg"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("cannot write the output file /nonexistent-dir/x.svg"), result.stderr)
        XCTAssertFalse(result.stderr.contains("recording"), "must fail before sampling: \(result.stderr)")
    }

    func testBadRate() throws {
        for rate in ["0", "-5", "1000000"] {
            let result = try record(["--frequency=\(rate)", "-d", "1", "-o", "/tmp/never.svg"])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains("rate must be between 1 and"), result.stderr)
        }
    }

    func testBadCeilings() throws {
        for (arguments, message) in [(["--max-stacks", "0"], "--max-stacks 0: at least one stack"),
                                     (["--max-stack-memory", "0"], "--max-stack-memory 0: at least 1 MB"),
                                     (["--max-timeline", "1"], "--max-timeline 1: at least 2 samples")] {
            let result = try record(arguments + ["-d", "1", "-o", "/tmp/never.trace.json"])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
            XCTAssertFalse(result.stderr.contains("recording"), "must fail before sampling: \(result.stderr)")
        }
    }

    func testNotRoot() throws {
        try TestSupport.requireRoot()
        let result = try TestSupport.run("/usr/bin/setpriv",
                                         ["--reuid=65534", "--regid=65534", "--clear-groups",
                                          try TestSupport.pyrographBinary(), "record", "-d", "1", "-o", "/tmp/never.svg"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("needs root"), result.stderr)
    }

    func testMissingCommandFailsClearly() throws {
        try TestSupport.requireRoot()
        let result = try record(["-o", "/tmp/never.folded", "--", "/no/such/program"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("could not start /no/such/program"), result.stderr)
    }
}
