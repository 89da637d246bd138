import Foundation
import XCTest

/// `bench/run --smoke`: the benchmark suite runs end to end with tiny
/// workloads and writes a complete, finite results file. No speed
/// thresholds: those belong to `make bench`.
final class BenchSmokeTests: XCTestCase {
    func testSmokeRunWritesEveryFigureWithFiniteNumbers() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = TestSupport.packageRoot.appendingPathComponent("bench/run")

        let process = Process()
        process.executableURL = script
        process.arguments = ["--smoke", "--out", directory.path]
        var environment = ProcessInfo.processInfo.environment
        environment["PYROGRAPH_BIN"] = try TestSupport.pyrographBinary()
        process.environment = environment
        let log = directory.appendingPathComponent("bench.log")
        XCTAssertTrue(FileManager.default.createFile(atPath: log.path, contents: nil), log.path)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 0, output)

        let markdown = try String(contentsOf: directory.appendingPathComponent("smoke.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("## Targets"), markdown)
        XCTAssertTrue(output.contains("## 1. Slowdown"), "the table should be printed too:\n\(output)")

        let data = try Data(contentsOf: directory.appendingPathComponent("smoke.json"))
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["meta", "slowdown", "cost_steady", "scale", "fidelity", "startup", "targets"] {
            XCTAssertNotNil(results[key], "missing \(key)")
        }
        let meta = try XCTUnwrap(results["meta"] as? [String: Any])
        XCTAssertEqual(meta["smoke"] as? Bool, true)

        let slowdown = try XCTUnwrap(results["slowdown"] as? [String: Any])
        let rows = try XCTUnwrap(slowdown["rows"] as? [[String: Any]])
        let workloads = Set(rows.compactMap { $0["workload"] as? String })
        XCTAssertEqual(workloads, ["recursion", "loop", "cext", "threads", "storm"])
        for row in rows {
            let factor = try XCTUnwrap(row["slowdown"] as? Double, "\(row)")
            XCTAssertGreaterThan(factor, 0)
        }
        let costs = try XCTUnwrap(slowdown["cost_per_sample"] as? [[String: Any]])
        XCTAssertFalse(costs.isEmpty)
        for row in costs {
            XCTAssertNotNil(row["total_us"] as? Double, "\(row)")
        }

        let steady = try XCTUnwrap(results["cost_steady"] as? [[String: Any]])
        XCTAssertFalse(steady.isEmpty)
        for row in steady {
            XCTAssertGreaterThan(try XCTUnwrap(row["samples_in_window"] as? Int, "\(row)"), 0)
            XCTAssertNotNil(row["total_us"] as? Double, "\(row)")
        }
        let scale = try XCTUnwrap(results["scale"] as? [[String: Any]])
        XCTAssertFalse(scale.isEmpty)
        for row in scale {
            for key in ["cpu_pct_steady", "bpf_pct_steady", "max_rss_mb", "launch_to_ready_ms"] {
                XCTAssertNotNil(row[key] as? Double, "scale \(key): \(row)")
            }
            XCTAssertNotNil(row["lost"] as? Int, "\(row)")
        }
        let fidelity = try XCTUnwrap(results["fidelity"] as? [[String: Any]])
        XCTAssertFalse(fidelity.isEmpty)
        for row in fidelity {
            XCTAssertNotNil(row["max_error_points"] as? Double, "\(row)")
        }
        let startup = try XCTUnwrap(results["startup"] as? [[String: Any]])
        XCTAssertFalse(startup.isEmpty)
        for row in startup {
            XCTAssertNotNil(row["launch_to_ready_ms"] as? Double, "\(row)")
            XCTAssertNotNil(row["exec_to_first_python_sample_ms"] as? Double, "\(row)")
        }
        let targets = try XCTUnwrap(results["targets"] as? [[String: Any]])
        XCTAssertFalse(targets.isEmpty)
        for target in targets {
            XCTAssertNotNil(target["met"] as? Bool, "\(target)")
        }

        var numbers = 0
        assertFinite(results, path: "results", count: &numbers)
        XCTAssertGreaterThan(numbers, 50)
    }

    /// Every number in the JSON is finite (NaN and infinity would not even
    /// parse; this also catches huge placeholders).
    private func assertFinite(_ value: Any, path: String, count: inout Int) {
        switch value {
        case let dictionary as [String: Any]:
            for (key, item) in dictionary { assertFinite(item, path: "\(path).\(key)", count: &count) }
        case let array as [Any]:
            for (index, item) in array.enumerated() { assertFinite(item, path: "\(path)[\(index)]", count: &count) }
        case is Bool:
            break
        case let number as Double:
            count += 1
            XCTAssertTrue(number.isFinite && abs(number) < 1e15, "\(path) = \(number)")
        case is Int:
            count += 1
        default:
            break
        }
    }
}
