import Foundation
import XCTest
@testable import Aggregation
@testable import Output

/// examples/backtest.py shows what the README says it shows: both
/// anti-patterns as wide blocks of the CPU profile, under their short
/// names, and with the fixes they are gone.
final class ExampleWorkloadTests: XCTestCase {
    func testBothAntiPatternsStandOutAndTheFixesRemoveThem() throws {
        try TestSupport.requireRoot()
        let python = try PythonInterpreters.require("3.12")
        let directory = try TestSupport.temporaryDirectory()
        let example = TestSupport.packageRoot.appendingPathComponent("examples/backtest.py").path
        var shares: [String: [String: Double]] = [:]
        for variant in ["as written", "--fixed"] {
            let output = directory.appendingPathComponent("\(variant == "--fixed" ? "fixed" : "slow").folded")
            let result = try TestSupport.run(try TestSupport.pyrographBinary(),
                                             ["record", "-F", "299", "--no-lines", "-o", output.path, "--", python.path, example, "2"]
                                                 + (variant == "--fixed" ? ["--fixed"] : []))
            XCTAssertEqual(result.status, 0, result.stderr)
            let profile = try FoldedReader.read(String(contentsOf: output, encoding: .utf8))
            var inFunction: [String: UInt64] = [:]
            for stack in profile.stacks {
                let names = Set(profile.frames(of: stack).map(FrameNaming.displayName))
                for name in names { inFunction[name, default: 0] += stack.values[0] }
            }
            let total = Double(max(inFunction["run_batch (backtest.py)"] ?? 0, 1))
            // The fixed loop needs a sixth of the CPU.
            XCTAssertGreaterThan(total, variant == "--fixed" ? 20 : 100, "\(variant): too few samples in run_batch:\n\(result.stderr)")
            shares[variant] = inFunction.mapValues { Double($0) / total }
        }
        let slow = shares["as written"]!, fixed = shares["--fixed"]!
        print("share of run_batch: save_result \(slow["save_result (backtest.py)"] ?? 0) -> \(fixed["save_result (backtest.py)"] ?? 0), "
            + "with_retries \(slow["with_retries (backtest.py)"] ?? 0) -> \(fixed["with_retries (backtest.py)"] ?? 0)")
        // The directory check: os.makedirs from the frozen os module, on every call.
        XCTAssertGreaterThan(slow["makedirs (<frozen os>)"] ?? 0, 0.2)
        XCTAssertLessThan(fixed["makedirs (<frozen os>)"] ?? 0, 0.02)
        // The eager formatting: the % operator's repr of the book, under with_retries.
        XCTAssertGreaterThan(slow["PyUnicode_Format [libpython3.12.so.1.0]"] ?? 0, 0.15)
        XCTAssertLessThan(fixed["PyUnicode_Format [libpython3.12.so.1.0]"] ?? 0, 0.02)
        XCTAssertGreaterThan(slow["with_retries (backtest.py)"] ?? 0, 0.15)
    }
}
