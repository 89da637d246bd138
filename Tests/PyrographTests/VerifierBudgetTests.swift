import Foundation
import XCTest

/// The kernel gives up on a program once its verifier has processed a
/// million instructions. The sampler once sat at 986,000: one more branch
/// and pyrograph would not have loaded at all. This keeps it far away.
final class VerifierBudgetTests: XCTestCase {
    static let budget = 200_000

    func testTheSamplerVerifiesWellWithinTheKernelsLimit() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let tool = directory.appendingPathComponent("verifier_stats")
        let compiled = try TestSupport.run("/usr/bin/gcc", ["-O1", "-o", tool.path,
            TestSupport.fixtures.appendingPathComponent("bpf/verifier_stats.c").path, "-lbpf"])
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        for mode in ["", "filter"] {
            let result = try TestSupport.run(tool.path, [try ABILayoutTests.bpfObjectPath()] + (mode.isEmpty ? [] : [mode]))
            XCTAssertEqual(result.status, 0, result.stderr)
            let processed = try XCTUnwrap(Int(result.stdout.split(separator: " ").last?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""), result.stdout)
            print("verifier: pyro_sample_cpu\(mode.isEmpty ? "" : " (pid filter)"): \(processed) instructions processed")
            XCTAssertLessThan(processed, Self.budget, "the verifier's work grew toward the kernel's limit of 1,000,000")
        }
    }
}
