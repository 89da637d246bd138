import Foundation
import ProcessInspection
import PythonRuntime
import XCTest

/// `record --clock wall --gil` against gil_threads.py: two threads burning
/// Python fight for the GIL, so each waits for it about half its time, under
/// its own Python function; a third compresses with the GIL released, which
/// is not waiting. Ground truth: each thread's CPU and wall seconds.
final class GILTests: XCTestCase {
    static let seconds = 3.0
    static let frequency = 99
    static let waiting = "[waiting for the GIL]"

    // 2.7 and 3.6: the holder is _PyThreadState_Current; waiting is told
    // from the native stack (take_gil on 3.6, PyThread_acquire_lock under
    // the eval loop on 2.7), which pyenv's builds name.
    func testPython2_7() throws { try check(PythonInterpreters.require("2.7")) }
    func testPython3_6() throws { try check(PythonInterpreters.require("3.6")) }
    func testPython3_7() throws { try check(PythonInterpreters.require("3.7")) }
    func testPython3_8() throws { try check(PythonInterpreters.require("3.8")) }
    func testPython3_9() throws { try check(PythonInterpreters.require("3.9")) }
    func testPython3_10() throws { try check(PythonInterpreters.require("3.10")) }
    func testPython3_11() throws { try check(PythonInterpreters.require("3.11")) }
    func testDebianStaticPython3_11() throws { try check(PythonInterpreters.require("3.11-debian")) }
    func testPython3_12() throws { try check(PythonInterpreters.require("3.12")) }
    func testPython3_13() throws { try check(PythonInterpreters.require("3.13")) }
    func testDebianPython3_13() throws { try check(PythonInterpreters.requireDebian("3.13-debian-unstable")) }
    func testDebianPython3_14() throws { try check(PythonInterpreters.requireDebian("3.14-debian-unstable")) }
    func testDebianPython3_15() throws { try check(PythonInterpreters.requireDebian("3.15-debian-unstable")) }
    func testDebianPython3_14Debug() throws { try check(PythonInterpreters.requireDebian("3.14-debian-dbg")) }
    func testDebianPython3_15Debug() throws { try check(PythonInterpreters.requireDebian("3.15-debian-dbg")) }
    func testDebianPython3_14WithTheJIT() throws { try check(PythonInterpreters.requireDebian("3.14-debian-jit")) }
    func testDebianPython3_15WithTheJIT() throws { try check(PythonInterpreters.requireDebian("3.15-debian-jit")) }

    /// GILState, the host's reader, names the spinning thread as the holder,
    /// and nobody while every thread sleeps.
    func testGILStateNamesTheHolder() throws {
        // Also Python 2.7's.
        let script = """
            import sys, threading, time
            try: from threading import get_ident
            except ImportError: from thread import get_ident
            def spin():
                print(get_ident()); sys.stdout.flush()
                while True: pass
            if sys.argv[1] == "spin":
                spinner = threading.Thread(target=spin); spinner.daemon = True; spinner.start()
            else: print(0); sys.stdout.flush()
            time.sleep(60)
            """
        for label in ["2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.11-debian", "3.12", "3.13"] {
            let python = try PythonInterpreters.require(label)
            for mode in ["spin", "sleep"] {
                let child = try FixtureChild(python.path, ["-c", script, mode])
                defer { child.process.terminate(); child.process.waitUntilExit() }
                let spinner = try XCTUnwrap(UInt64(child.readLine(timeout: 30)), "\(python)")
                let process = try XCTUnwrap(PythonProcessDetector().detect(pid: child.pid), "\(python)")
                let memory = try ProcessMemory(pid: child.pid)
                var holders: [UInt64?] = []
                for _ in 0..<20 {
                    switch GILState.read(process, memory: memory) {
                    case .success(let state): holders.append(state.holderThreadID)
                    case .failure(let failure): return XCTFail("\(python): \(failure)")
                    }
                    usleep(10_000)
                }
                if mode == "spin" {
                    XCTAssertGreaterThanOrEqual(holders.filter { $0 == spinner }.count, 15, "\(python): \(holders) vs \(spinner)")
                } else {
                    XCTAssertEqual(holders.compactMap { $0 }, [], "\(python): nobody holds the GIL while all sleep")
                }
            }
        }
    }

    private struct Truth: Decodable {
        struct Thread: Decodable {
            var tid: Int32
            var cpu_seconds: Double
            var wall_seconds: Double
        }
        var pid: Int32
        var jit: Bool
        var threads: [String: Thread]
    }

    /// One folded line: frames root first, and its count.
    private struct Line {
        var frames: [String]
        var count: Int
        /// The thread frame, `NAME (TID)`, second from the root with --threads.
        var tid: Int32? {
            guard frames.count > 1, let open = frames[1].lastIndex(of: "(") else { return nil }
            return Int32(frames[1][frames[1].index(after: open)...].dropLast())
        }
        var waitingIndex: Int? { frames.firstIndex(of: GILTests.waiting) }
    }

    private func check(_ python: PythonInterpreter) throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("gil.folded")
        let report = directory.appendingPathComponent("truth.json")
        var arguments = ["record", "--clock", "wall", "--gil", "--threads", "--full-filenames", "--interpreter-frames", "-F", "\(Self.frequency)", "-f", "folded",
                         "-o", output.path, "--"]
        if let root = python.root {
            // The script and its report live inside the root.
            let inside = URL(fileURLWithPath: root + "/tmp/pyrograph-gil-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: inside, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: inside) }
            for name in ["gil_threads.py", "workload.py"] {
                try FileManager.default.copyItem(at: PythonInterpreters.script(name), to: inside.appendingPathComponent(name))
            }
            let innerDirectory = String(inside.path.dropFirst(root.count))
            arguments += python.launcher + [python.path, "-B", innerDirectory + "/gil_threads.py", "\(Self.seconds)",
                          innerDirectory + "/truth.json"]
            try verify(python, arguments: arguments, output: output, report: inside.appendingPathComponent("truth.json"))
        } else {
            arguments += [python.path, "-B", PythonInterpreters.script("gil_threads.py").path, "\(Self.seconds)", report.path]
            try verify(python, arguments: arguments, output: output, report: report)
        }
    }

    private func verify(_ python: PythonInterpreter, arguments: [String], output: URL, report: URL) throws {
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        let truth = try JSONDecoder().decode(Truth.self, from: Data(contentsOf: report))
        XCTAssertEqual(truth.jit, python.environment["PYTHON_JIT"] == "1", "\(python): is the JIT on?")
        let lines: [Line] = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").compactMap { line in
            guard let space = line.lastIndex(of: " "), let count = Int(line[line.index(after: space)...]) else { return nil }
            return Line(frames: line[..<space].split(separator: ";").map(String.init), count: count)
        }
        func sum(_ lines: [Line]) -> Double { Double(lines.reduce(0) { $0 + $1.count }) }

        var spinnerShares: [Double] = []
        for (name, function) in [("spinner-1", "spin_one"), ("spinner-2", "spin_two")] {
            let thread = try XCTUnwrap(truth.threads[name], name)
            let mine = lines.filter { $0.tid == thread.tid }
            let total = sum(mine)
            XCTAssertGreaterThan(total, 0.8 * Double(Self.frequency) * thread.wall_seconds,
                                 "\(python) \(name): wall time missing\n\(result.stderr)")
            let waiting = mine.filter { $0.waitingIndex != nil }
            let share = sum(waiting) / max(total, 1)
            // Running Python needs the GIL: the thread waited for most of
            // the time it did not run (the rest it was preempted holding it).
            let truthShare = max(0, 1 - thread.cpu_seconds / thread.wall_seconds)
            print("\(python) \(name): waiting for the GIL \(share) of its wall time (not on CPU: \(truthShare))")
            spinnerShares.append(share)
            XCTAssertGreaterThan(share, 0.3, "\(python) \(name) waits about half its time\n\(result.stderr)")
            if python.label == "2.7" {
                // 2.7's old GIL is a plain lock that the eval loop drops and
                // takes again every 100 bytecodes, waking the waiter, which
                // mostly loses the race and sleeps again: that switch burns
                // CPU without the GIL, so waiting is partly on CPU and the
                // CPU-time bound below does not hold; the unfair lock does
                // not split the time evenly either. What holds: the time
                // it is off CPU it mostly waits for the GIL.
                XCTAssertLessThan(share, 0.95, "\(python) \(name) waits for the GIL, not all the time\n\(result.stderr)")
                XCTAssertGreaterThan(share, truthShare - 0.15, "\(python) \(name): off CPU but not waiting?\n\(result.stderr)")
            } else {
                XCTAssertLessThan(share, 0.7, "\(python) \(name) waits about half its time\n\(result.stderr)")
                // 0.1 of slack: at 99 Hz over 3 s the on-CPU part is about
                // 150 samples, whose share alone varies by 0.04 (3.9 was
                // 0.06 over in one fresh-clone run); counting on-CPU time as
                // waiting would put it near 1.
                XCTAssertLessThanOrEqual(share, truthShare + 0.1, "\(python) \(name): waiting while on CPU?")
            }
            // Under the Python frame that asked for it, the thread's own
            // (where the Python walk found the thread's frames), or, as the
            // thread starts, workload.native_tid: before 3.8 it reads
            // /proc/thread-self, which releases the GIL, so the thread then
            // waits to take it back there.
            let callers = Set(waiting.map { line in line.frames[line.waitingIndex! - 1] }.filter(\.isPythonFrame))
            XCTAssertFalse(callers.isEmpty, "\(python) \(name): never waiting under a Python frame")
            XCTAssertEqual(callers.map { $0.hasPrefix(function + " (") || $0.hasPrefix("native_tid (") },
                           Array(repeating: true, count: callers.count),
                           "\(python) \(name): waiting under \(callers)")
        }

        // Together the spinners hold it most of the time, even where the
        // lock is unfair (2.7): on average each waits about half its time;
        // on 2.7 more, as its switch leaves the GIL free for a while
        // (held 1.9-2.3 of 3 s there, 2.5-2.9 s elsewhere).
        let meanShare = spinnerShares.reduce(0, +) / Double(max(spinnerShares.count, 1))
        XCTAssertGreaterThan(meanShare, 0.25, "\(python): the spinners' mean waiting share")
        XCTAssertLessThan(meanShare, python.label == "2.7" ? 0.85 : 0.75, "\(python): the spinners' mean waiting share")

        let compressor = try XCTUnwrap(truth.threads["compressor"])
        let compressing = lines.filter { $0.tid == compressor.tid }
        let total = sum(compressing)
        let inDeflate = compressing.filter { line in line.frames.contains { $0.contains("deflate") } }
        // Most of its CPU time is in deflate; most of its wall time it waits
        // to take the GIL back from the spinners, so the share of its wall
        // time in deflate depends on the host (22 to 40% seen).
        XCTAssertGreaterThan(sum(inDeflate), 0.5 * Double(Self.frequency) * compressor.cpu_seconds,
                             "\(python): the compressor's deflate is missing (\(sum(inDeflate)) of \(total))\n\(result.stderr)")
        XCTAssertEqual(inDeflate.filter { $0.waitingIndex != nil }.map(\.frames), [],
                       "\(python): deflate runs with the GIL released, not waiting for it")
        // Between two calls it does wait, to take the GIL back: there only.
        let waitingShare = sum(compressing.filter { $0.waitingIndex != nil }) / max(total, 1)
        print("\(python) compressor: waiting for the GIL \(waitingShare), in deflate \(sum(inDeflate) / max(total, 1))")
        let callers = Set(compressing.compactMap { line in line.waitingIndex.map { line.frames[$0 - 1] } }.filter(\.isPythonFrame))
        XCTAssertEqual(callers.map { $0.hasPrefix("compress_loop (") || $0.hasPrefix("native_tid (") },
                       Array(repeating: true, count: callers.count),
                       "\(python) compressor: waiting under \(callers)")

        // The summary's GIL figures for the process: someone held the GIL
        // nearly all the time (the spinners never stop asking for it).
        let summary = result.stderr.split(separator: "\n").first { $0.contains("GIL in ") } ?? ""
        let words = summary.split(separator: " ").map(String.init)
        let held: Double? = words.firstIndex(of: "held").flatMap { $0 + 1 < words.count ? Double(words[$0 + 1]) : nil }
        print("\(python): held \(held.map { "\($0)" } ?? "?") thread-seconds of \(Self.seconds) s")
        XCTAssertGreaterThan(held ?? 0, 0.5 * Self.seconds, "\(python): the GIL's holder\n\(result.stderr)")
    }
}

private extension String {
    /// A folded Python frame: `qualname (file.py:line)`.
    var isPythonFrame: Bool { hasSuffix(")") && contains(".py:") }
}
