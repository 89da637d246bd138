import Foundation
import XCTest

/// pyrograph raises its own priority while it records (so a saturated host
/// cannot starve it), and a command after `--` still runs at the priority
/// pyrograph was started with.
final class PriorityTests: XCTestCase {
    /// The command prints its own nice value and its parent's (pyrograph).
    private func niceValues(pyrographArguments: [String]) throws -> (command: Int, pyrograph: Int) {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let output = directory.appendingPathComponent("nice.folded")
        let script = "import os; stat = open('/proc/%d/stat' % os.getppid()).read(); "
            + "print(os.getpriority(os.PRIO_PROCESS, 0), stat.rsplit(')', 1)[1].split()[16])"
        let run = try TestSupport.run("/usr/bin/nice", ["-n", "5", try TestSupport.pyrographBinary(), "record"]
            + pyrographArguments + ["-o", output.path, "--", "/usr/bin/python3", "-c", script])
        XCTAssertEqual(run.status, 0, run.stderr)
        let values = run.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard values.count == 2 else {
            XCTFail("expected two nice values, got \(run.stdout)")
            return (0, 0)
        }
        return (values[0], values[1])
    }

    func testDefaultRaisesPyrographButNotTheCommand() throws {
        let values = try niceValues(pyrographArguments: [])
        XCTAssertEqual(values.command, 5, "the command must run at the nice value pyrograph was started with")
        XCTAssertEqual(values.pyrograph, -20)
    }

    func testNiceOptionSetsPyrographsPriority() throws {
        let values = try niceValues(pyrographArguments: ["--nice", "-3"])
        XCTAssertEqual(values.command, 5)
        XCTAssertEqual(values.pyrograph, -3)
    }

    func testNiceOutOfRangeFailsBeforeSampling() throws {
        let run = try TestSupport.run(try TestSupport.pyrographBinary(), ["record", "--nice", "20", "-d", "1", "-o", "/dev/null"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("--nice 20: a nice value is between -20 and 19"), run.stderr)
        XCTAssertFalse(run.stderr.contains("recording"), run.stderr)
    }
}
