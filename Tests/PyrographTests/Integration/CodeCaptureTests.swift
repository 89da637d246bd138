import Foundation
import XCTest

/// Frames of code objects that live a few milliseconds (functions exec'd
/// for 10 ms, module bodies during import) are named, and named right:
/// the kernel copies what naming needs at sample time, and the names are
/// checked against the interpreter's own view (sys._current_frames()
/// snapshots the workload takes).
final class CodeCaptureTests: XCTestCase {
    static let interpreters = ["3.8", "3.12", "3.11-debian"]

    func testFunctionsExecdForTenMillisecondsAreNamed() throws {
        try TestSupport.requireRoot()
        for label in Self.interpreters {
            let run = try Self.record(try PythonInterpreters.require(label), mode: "exec")
            XCTAssertGreaterThanOrEqual(run.namedShare, 0.99, "\(label): \(run.named) of \(run.frames) Python frames named\n\(run.stderr)")
            var generated = 0
            for frame in run.namedFrames where frame.file.hasPrefix("<gen-") {
                let number = frame.file.dropFirst("<gen-".count).dropLast()
                XCTAssertTrue(["fn_\(number)", "<module>"].contains(frame.name), "\(label): \(frame) is not what <gen-\(number)> defines")
                generated += 1
            }
            XCTAssertGreaterThan(generated, 20, "\(label): frames of generated code\n\(run.stderr)")
            // Judged on the generated code: the imports before the
            // snapshot thread starts are never seen by it.
            let ofGenerated = run.namedFrames.filter { $0.file.hasPrefix("<gen-") }
            let seen = ofGenerated.filter { run.interpreterSaw.contains($0) }
            XCTAssertGreaterThanOrEqual(Double(seen.count), 0.9 * Double(ofGenerated.count),
                                        "\(label): generated functions the interpreter never ran: \(ofGenerated.subtracting(seen).prefix(5))")
        }
    }

    func testModuleBodiesDuringImportAreNamed() throws {
        try TestSupport.requireRoot()
        for label in Self.interpreters {
            let run = try Self.record(try PythonInterpreters.require(label), mode: "import")
            XCTAssertGreaterThanOrEqual(run.namedShare, 0.99, "\(label): \(run.named) of \(run.frames) Python frames named\n\(run.stderr)")
            XCTAssertGreaterThan(run.namedFrames.filter { $0.name == "<module>" }.count, 10, "\(label): module bodies")
            XCTAssertGreaterThanOrEqual(run.shareSeenByInterpreter, 0.9, "\(label): names the interpreter never ran")
        }
    }

    // MARK: - Support

    struct NamedFrame: Hashable, CustomStringConvertible {
        var name: String
        var file: String
        var description: String { "\(name) (\(file))" }
    }

    struct Run {
        /// Python frames in the profile, weighed by samples, and those named.
        var frames = 0
        var named = 0
        /// Distinct named frames, and the share of the named frames (by
        /// samples) that the interpreter's own snapshots saw: snapshots
        /// every millisecond miss the briefest functions, never the ones
        /// samples often land in.
        var namedFrames: Set<NamedFrame> = []
        var shareSeenByInterpreter = 0.0
        /// What the workload's snapshots saw.
        var interpreterSaw: Set<NamedFrame> = []
        var stderr = ""
        var namedShare: Double { Double(named) / Double(max(frames, 1)) }
    }

    static func record(_ interpreter: PythonInterpreter, mode: String) throws -> Run {
        let directory = try TestSupport.temporaryDirectory()
        let output = directory.appendingPathComponent("\(mode)-\(interpreter.label).folded")
        let seen = directory.appendingPathComponent("\(mode)-\(interpreter.label).json")
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
            "record", "-F", "499", "--full-filenames", "--interpreter-frames", "-o", output.path, "--", interpreter.path, "-B",
            PythonInterpreters.script("short_code.py").path, mode, "2", seen.path,
        ])
        XCTAssertEqual(result.status, 0, "\(interpreter): \(result.stderr)")
        let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
        let pairs = try JSONSerialization.jsonObject(with: Data(contentsOf: seen)) as? [[String]] ?? []
        let interpreterSaw = Set(pairs.filter { $0.count == 2 }.map { NamedFrame(name: $0[0], file: $0[1]) })
        var run = Run(stderr: result.stderr)
        run.interpreterSaw = interpreterSaw
        // The snapshot thread's own frames are not the main thread's.
        let snapshotThread: Set<String> = ["snapshot", "run", "_bootstrap", "_bootstrap_inner", "wait", "Thread.run",
                                           "Thread._bootstrap", "Thread._bootstrap_inner"]
        var judged = 0, seenByInterpreter = 0
        for stack in profile.stacks {
            for frame in stack.frames {
                if frame == "[python frame unreadable]" {
                    run.frames += stack.count
                } else if let named = pythonFrame(frame) {
                    run.frames += stack.count
                    run.named += stack.count
                    run.namedFrames.insert(named)
                    guard !snapshotThread.contains(named.name) else { continue }
                    judged += stack.count
                    if interpreterSaw.contains(named) { seenByInterpreter += stack.count }
                }
            }
        }
        run.shareSeenByInterpreter = Double(seenByInterpreter) / Double(max(judged, 1))
        return run
    }

    /// "name (file:line)" as the folded writer names a Python frame.
    static func pythonFrame(_ frame: String) -> NamedFrame? {
        guard frame.hasSuffix(")"), !frame.hasSuffix("]"), let open = frame.range(of: " (", options: .backwards),
              let colon = frame.range(of: ":", options: .backwards, range: open.upperBound..<frame.endIndex),
              Int(frame[colon.upperBound..<frame.index(before: frame.endIndex)]) != nil else { return nil }
        return NamedFrame(name: String(frame[..<open.lowerBound]), file: String(frame[open.upperBound..<colon.lowerBound]))
    }
}
