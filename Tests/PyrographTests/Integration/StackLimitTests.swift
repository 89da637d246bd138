import Foundation
import XCTest

/// `--max-stacks`: past the limit, samples are kept under one frame per
/// process that says so, and the summary counts them.
final class StackLimitTests: XCTestCase {
    func testStacksPastTheLimitAreCountedNotLost() throws {
        try TestSupport.requireRoot()
        let output = try TestSupport.temporaryDirectory().appendingPathComponent("limit.folded")
        let interpreter = try PythonInterpreters.require("3.12")
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
            "record", "--max-stacks", "3", "-o", output.path, "--", interpreter.path, "-B",
            PythonInterpreters.script("fork_early.py").path, "2", "1",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
        let full = profile.stacks.filter { $0.frames.last == "[stack table full]" }
        XCTAssertFalse(full.isEmpty, "overflow stacks expected:\n\(profile.stacks)")
        XCTAssertEqual(full.filter { $0.frames.count != 2 }.count, 0, "the overflow stack is the process frame and the marker")
        XCTAssertLessThanOrEqual(profile.stacks.count - full.count, 3, "at most 3 distinct stacks with frames")
        let counted = full.reduce(0) { $0 + $1.count }
        XCTAssertTrue(result.stderr.contains("stacks past --max-stacks 3: \(counted) samples"), result.stderr)
        XCTAssertTrue(result.stderr.contains("pyrograph: \(profile.total) samples"), "no sample is lost: \(result.stderr)")
    }
}
