import Foundation
import XCTest
@testable import Aggregation
@testable import Output

/// The default view of real mixed stacks: CPython's glue between Python
/// frames is gone, the C code Python calls into stays, file names are
/// short. Python 2.7 and 3.9 call every Python function through the eval
/// loop's native frames (`call_function`, `function_code_fastcall`), so
/// their stacks show the most glue.
final class InterpreterGlueTests: XCTestCase {
    static let labels = ["2.7", "3.9"]
    static let modes = ["ctypes", "zlib", "stat"]

    func testDefaultViewHidesGlueAndKeepsCallees() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let library = directory.appendingPathComponent("libchain.so")
        let compiled = try TestSupport.run("/usr/bin/gcc", ["-O2", "-shared", "-fPIC", "-o", library.path,
                                                            TestSupport.fixtures.appendingPathComponent("native/chain.c").path])
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        let script = PythonInterpreters.script("mixed.py").path
        var processes: [(label: String, mode: String, process: Process)] = []
        for label in Self.labels {
            let python = try PythonInterpreters.require(label)
            for mode in Self.modes {
                let process = try Process.run(URL(fileURLWithPath: python.path), arguments: [script, mode, "600", library.path])
                processes.append((label, mode, process))
            }
        }
        defer { processes.forEach { if $0.process.isRunning { $0.process.terminate() } } }
        usleep(600_000)
        let targets = processes.flatMap { ["-p", String($0.process.processIdentifier)] }

        // The raw model and the default view, one recording each.
        let raw = directory.appendingPathComponent("raw.folded"), shown = directory.appendingPathComponent("shown.folded")
        for (output, flags) in [(raw, ["--interpreter-frames", "--full-filenames"]), (shown, [])] {
            let result = try TestSupport.run(try TestSupport.pyrographBinary(),
                                             ["record", "-F", "299", "-d", "2"] + flags + ["-o", output.path] + targets)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let rawProfile = try FoldedReader.read(String(contentsOf: raw, encoding: .utf8))
        let shownProfile = try FoldedReader.read(String(contentsOf: shown, encoding: .utf8))

        for (label, mode, process) in processes {
            let pid = process.processIdentifier
            let rawStacks = stacks(of: pid, in: rawProfile)
            let shownStacks = stacks(of: pid, in: shownProfile)
            let what = "\(label) \(mode)"
            XCTAssertGreaterThan(rawStacks.count, 20, "\(what): too few samples")
            XCTAssertGreaterThan(shownStacks.count, 20, "\(what): too few samples")

            // The raw recording has glue between Python frames; the view has none.
            XCTAssertGreaterThan(rawStacks.filter { !glue(in: $0).isEmpty }.count, rawStacks.count / 2,
                                 "\(what): no glue in the raw stacks:\n\(dump(rawStacks))")
            let leftover = shownStacks.filter { !glue(in: $0).isEmpty }
            XCTAssertTrue(leftover.isEmpty, "\(what): glue left:\n\(dump(leftover))")

            // What Python called into stays, under the Python caller.
            // (2.7 inlines posix_do_stat into posix_stat.)
            let callee = ["ctypes": ["inner [libchain.so]"], "zlib": ["deflate [libz"], "stat": ["posix_stat", "posix_do_stat"]][mode]!
            let share = { (stacks: [[Frame]]) in
                Double(stacks.filter { stack in
                    stack.map(FrameNaming.displayName).contains { name in callee.contains { name.hasPrefix($0) } }
                }.count) / Double(stacks.count)
            }
            XCTAssertGreaterThan(share(shownStacks), 0.5, "\(what): \(callee) lost:\n\(dump(shownStacks))")
            XCTAssertEqual(share(shownStacks), share(rawStacks), accuracy: 0.25, "\(what): \(callee)")

            // Short names: the script's directory is sys.path[0].
            let files = Set(shownStacks.joined().filter { $0.kind == .python }.compactMap(\.file))
            XCTAssertTrue(files.contains("mixed.py"), "\(what): \(files)")
            XCTAssertFalse(files.contains { $0.hasPrefix("/") }, "\(what): \(files)")

            // The same samples through the view: every Python call of the chain
            // (<module> -> main -> caller) lost its glue, the flame graph is shallower.
            let viewed = stacks(of: pid, in: ProfileView().apply(to: rawProfile))
            let depth = { (stacks: [[Frame]]) in Double(stacks.map(\.count).reduce(0, +)) / Double(stacks.count) }
            print("\(what): mean depth \(depth(rawStacks)) raw, \(depth(viewed)) through the view, "
                + "\(depth(shownStacks)) recorded with the default view")
            XCTAssertEqual(viewed.count, rawStacks.count)
            XCTAssertLessThanOrEqual(depth(viewed), depth(rawStacks) - 1.5, "\(what): not shallower")
        }
    }

    /// Each sample of `pid`, once per count.
    private func stacks(of pid: Int32, in profile: Profile) -> [[Frame]] {
        profile.stacks.filter { profile.frames[Int($0.frames[0])].id == pid }.flatMap { stack in
            Array(repeating: profile.frames(of: stack), count: Int(stack.values[0]))
        }
    }

    /// Native frames of the interpreter (by module name, not by the rule
    /// under test) with a Python frame on each side.
    private func glue(in stack: [Frame]) -> [Frame] {
        guard let outer = stack.firstIndex(where: { $0.kind == .python }),
              let inner = stack.lastIndex(where: { $0.kind == .python }), outer < inner else { return [] }
        return stack[outer..<inner].filter { frame in
            frame.kind == .native && (frame.module?.hasPrefix("libpython") == true || frame.module?.hasPrefix("python") == true)
        }
    }

    private func dump(_ stacks: [[Frame]]) -> String {
        var counts: [String: Int] = [:]
        for stack in stacks { counts[stack.map(FrameNaming.displayName).joined(separator: ";"), default: 0] += 1 }
        return counts.sorted { $0.value > $1.value }.prefix(5).map { "\($0.value) \($0.key)" }.joined(separator: "\n")
    }
}
