import Foundation
import ProcessInspection
import XCTest

/// Processes forked before pyrograph could know their parent was Python
/// (workers started at import time), and children that exist before `-p`
/// names their parent, get Python frames.
final class ForkedChildrenTests: XCTestCase {
    /// Two workers forked at the script's first instruction, under
    /// `record -- COMMAND`, on every interpreter.
    func testWorkersForkedAtStartHavePythonFrames() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        for interpreter in try PythonInterpreters.requireAll() {
            let output = directory.appendingPathComponent("fork-\(interpreter.label).folded")
            let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
                "record", "--full-filenames", "--interpreter-frames", "-o", output.path, "--", interpreter.path, "-B",
                PythonInterpreters.script("fork_early.py").path, "2", "1.5",
            ])
            XCTAssertEqual(result.status, 0, "\(interpreter): \(result.stderr)")
            let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
            let workers = Self.busyRoots(profile)
            XCTAssertEqual(workers.count, 2, "\(interpreter): two busy workers expected:\n\(result.stderr)")
            for root in workers {
                let share = Self.share(of: "child_work", in: profile.stacks(ofRoot: root))
                XCTAssertGreaterThanOrEqual(share, 0.8, "\(interpreter) \(root): \(share) of samples in child_work\n\(result.stderr)")
            }
        }
    }

    /// `-p PARENT` on a parent whose workers were forked before recording.
    func testPidTakesInChildrenThatAlreadyExist() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let interpreter = try PythonInterpreters.require("3.12")
        let parent = Process()
        parent.executableURL = URL(fileURLWithPath: interpreter.path)
        parent.arguments = ["-B", PythonInterpreters.script("fork_early.py").path, "3", "8"]
        try parent.run()
        defer { parent.terminate(); parent.waitUntilExit() }
        let deadline = Date().addingTimeInterval(5)
        while ProcessAncestry.descendants(of: [parent.processIdentifier]).count < 3 && Date() < deadline { usleep(10_000) }
        usleep(200_000)

        let output = directory.appendingPathComponent("prefork.folded")
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
            "record", "--full-filenames", "--interpreter-frames", "-d", "2", "-p", String(parent.processIdentifier), "-o", output.path,
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
        let workers = Self.busyRoots(profile)
        XCTAssertEqual(workers.count, 3, "the three existing workers are recorded:\n\(result.stderr)")
        for root in workers {
            let share = Self.share(of: "child_work", in: profile.stacks(ofRoot: root))
            XCTAssertGreaterThanOrEqual(share, 0.9, "\(root): \(share) of samples in child_work")
        }
    }

    /// `--merge-processes`: the parent and its workers share one root. The
    /// workers burn 2 s each, so that the interpreter's start-up (not
    /// child_work) stays well under a fifth of the samples: with 1 s it
    /// was 0.78 and 0.80 of them in two fresh-clone runs.
    func testMergedProcessesReadAsOneTower() throws {
        try TestSupport.requireRoot()
        let output = try TestSupport.temporaryDirectory().appendingPathComponent("merged.folded")
        let interpreter = try PythonInterpreters.require("3.12")
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
            "record", "--merge-processes", "--full-filenames", "--interpreter-frames", "-o", output.path, "--", interpreter.path, "-B",
            PythonInterpreters.script("fork_early.py").path, "3", "2",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
        XCTAssertEqual(Set(profile.stacks.map { $0.frames[0] }), ["python"], "one root, the command without a pid: \(result.stderr)")
        XCTAssertGreaterThanOrEqual(Self.share(of: "child_work", in: profile.stacks), 0.8)
    }

    /// Process frames with at least 10 samples: the workers, not the
    /// waiting parent.
    static func busyRoots(_ profile: FoldedProfile) -> [String] {
        var counts: [String: Int] = [:]
        for stack in profile.stacks { counts[stack.frames[0], default: 0] += stack.count }
        return counts.filter { $0.value >= 10 }.map(\.key).sorted()
    }

    static func share(of function: String, in stacks: [(frames: [String], count: Int)]) -> Double {
        let total = stacks.reduce(0) { $0 + $1.count }
        let named = stacks.filter { $0.frames.contains { $0.hasPrefix(function + " (") } }.reduce(0) { $0 + $1.count }
        return total == 0 ? 0 : Double(named) / Double(total)
    }
}
