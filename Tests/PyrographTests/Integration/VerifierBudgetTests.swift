import Foundation
import XCTest

/// The kernel gives up on a program once its verifier has processed a
/// million instructions. The sampler once sat at 986,000: one more branch
/// and pyrograph would not have loaded at all. This keeps it far away.
final class VerifierBudgetTests: XCTestCase {
    static let budget = 200_000

    func testTheSamplerVerifiesWellWithinTheKernelsLimit() throws {
        try TestSupport.requireRoot()
        let tool = try Self.verifierStats()
        // The off-CPU hook (sched_switch) captures the same stacks.
        for program in ["pyro_sample_cpu", "pyro_off_cpu_switch"] {
            for mode in ["", "filter"] {
                let processed = try Self.instructionsProcessed(tool, object: try ABILayoutTests.bpfObjectPath(),
                                                               program: program, mode: mode)
                print("verifier: \(program)\(mode.isEmpty ? "" : " (pid filter)"): \(processed) instructions processed")
                XCTAssertLessThan(processed, Self.budget, "the verifier's work grew toward the kernel's limit of 1,000,000")
            }
        }
    }

    /// The stack capture is shared with a scheduler hook to come (a thread's
    /// stacks as it goes off CPU): bpf/capture_check.bpf.c calls it from
    /// tp_btf/sched_switch, and the kernel must accept that too.
    func testTheStackCaptureVerifiesInASchedulerHook() throws {
        try TestSupport.requireRoot()
        let object = URL(fileURLWithPath: try ABILayoutTests.bpfObjectPath()).deletingLastPathComponent()
            .appendingPathComponent("capture_check.bpf.o").path
        guard FileManager.default.fileExists(atPath: object) else {
            return XCTFail("\(object) not found: `make bpf` builds it")
        }
        let processed = try Self.instructionsProcessed(try Self.verifierStats(), object: object,
                                                       program: "pyro_capture_check", mode: "")
        print("verifier: pyro_capture_check (tp_btf/sched_switch): \(processed) instructions processed")
        XCTAssertLessThan(processed, Self.budget, "the verifier's work grew toward the kernel's limit of 1,000,000")
    }

    static func verifierStats() throws -> URL {
        let tool = try TestSupport.temporaryDirectory().appendingPathComponent("verifier_stats")
        let compiled = try TestSupport.run("/usr/bin/gcc", ["-O1", "-o", tool.path,
            TestSupport.fixtures.appendingPathComponent("bpf/verifier_stats.c").path, "-lbpf"])
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        return tool
    }

    static func instructionsProcessed(_ tool: URL, object: String, program: String, mode: String) throws -> Int {
        let result = try TestSupport.run(tool.path, [object, program] + (mode.isEmpty ? [] : [mode]))
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(Int(result.stdout.split(separator: " ").last?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""), "\(program): \(result.stdout)\(result.stderr)")
    }
}
