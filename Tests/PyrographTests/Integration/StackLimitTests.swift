import Foundation
import XCTest

/// `--max-stacks`: past the limit, samples are kept under one frame per
/// process that says so, and the summary counts them. `--max-timeline`:
/// past it, the timeline is coarser, not shorter.
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

    /// Six seconds of new code at 999 Hz pass a stack memory of 1 MB: the
    /// stacks named before are set aside on disk and merged back at the
    /// stop, so the profile still holds every sample, and early code too.
    func testStacksPastTheMemoryBudgetAreSetAsideNotLost() throws {
        try TestSupport.requireRoot()
        let output = try TestSupport.temporaryDirectory().appendingPathComponent("spilled.folded")
        let interpreter = try PythonInterpreters.require("3.12")
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
            "record", "-F", "999", "--max-stack-memory", "1", "-o", output.path, "--", interpreter.path, "-B",
            PythonInterpreters.script("code_churn.py").path, "40", "6",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("stacks set aside past --max-stack-memory 1 MB: "), result.stderr)
        XCTAssertFalse(result.stderr.contains("[stack table full]") || result.stderr.contains("not set aside"), result.stderr)
        let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
        XCTAssertGreaterThan(profile.total, 3_000, result.stderr)
        XCTAssertTrue(result.stderr.contains("pyrograph: \(profile.total) samples"), "no sample is lost: \(result.stderr)")
        // The generated files, numbered as made: those of the first second
        // were named before anything was set aside.
        let generations = profile.stacks.flatMap(\.frames).compactMap { frame -> Int? in
            guard let range = frame.range(of: "(gen_") else { return nil }
            return Int(frame[range.upperBound...].prefix { $0.isNumber })
        }
        XCTAssertLessThan(generations.min() ?? .max, (generations.max() ?? 0) / 4, "early code is in the profile")
    }

    /// A second and a half at 999 Hz into a timeline of 50 entries: the
    /// chrome trace still spans the whole run and its events cover the
    /// samples' time, and the summary says how coarse it is.
    func testATimelinePastItsCeilingIsCoarserNotShorter() throws {
        try TestSupport.requireRoot()
        let output = try TestSupport.temporaryDirectory().appendingPathComponent("coarse.trace.json")
        let interpreter = try PythonInterpreters.require("3.12")
        let busy = "import time\nt = time.time()\nwhile time.time() - t < 1.5: sum(range(1000))\n"
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
            "record", "-F", "999", "--max-timeline", "50", "-o", output.path, "--", interpreter.path, "-c", busy,
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("timeline past --max-timeline 50: up to "), result.stderr)
        let samples = result.stderr.split(separator: "\n").first { $0.hasPrefix("pyrograph: ") && $0.contains(" samples from ") }
            .flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        XCTAssertGreaterThan(samples, 500, result.stderr)

        let trace = try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any]
        let events = (trace?["traceEvents"] as? [[String: Any]] ?? []).filter { $0["ph"] as? String == "X" }
        // The time the events cover: the union of their spans, in µs.
        let spans = events.compactMap { event -> (Double, Double)? in
            guard let start = event["ts"] as? Double, let length = event["dur"] as? Double else { return nil }
            return (start, start + length)
        }.sorted { $0.0 < $1.0 }
        var covered = 0.0, reach = -Double.infinity
        for (start, end) in spans where end > reach {
            covered += end - max(start, reach)
            reach = end
        }
        let sampleTime = Double(samples) * 1e6 / 999
        XCTAssertEqual(covered, sampleTime, accuracy: sampleTime * 0.15, "the events cover the samples' time")
        let first = spans.first?.0 ?? 0, last = spans.map(\.1).max() ?? 0
        XCTAssertGreaterThan(last - first, 1.2e6, "the timeline spans the whole run")
    }
}
