import Foundation
import XCTest

/// `record --clock wall` against the ground truth of offcpu_waits.py: its
/// main thread alternates a socket read answered after 30 ms
/// (wait_for_reply) with 20 ms of computation (compute) and measures each;
/// a second thread cycles through five kinds of wait. The fixture runs on
/// every interpreter, 2.7 included (see its header for the stand-ins).
final class WallClockTests: XCTestCase {
    static let seconds = 4.0
    /// The kernel frames each wait must show. time.sleep's system call
    /// differs between builds, so the fixture says which one this
    /// interpreter uses (see sleepKernel).
    static func waits(sleepCall: String) -> [(function: String, kernel: [String])] { [
        ("in_sleep", sleepKernel[sleepCall] ?? [sleepCall]),
        ("in_lock", ["futex"]),
        ("in_select", ["select"]),
        ("in_pipe_read", ["pipe_read"]),
        ("in_child_wait", ["wait4", "do_wait"]),
    ] }

    /// Where each of time.sleep's system calls waits in the kernel:
    /// clock_nanosleep and nanosleep in hrtimer_nanosleep/do_nanosleep,
    /// select (CPython 3.10 and older) in do_select.
    static let sleepKernel: [String: [String]] = [
        "clock_nanosleep": ["nanosleep"],
        "nanosleep": ["nanosleep"],
        "select": ["select"],
    ]

    func testPython2_7() throws { try checkWallAndCPU(PythonInterpreters.require("2.7")) }
    func testPython3_6() throws { try checkWallAndCPU(PythonInterpreters.require("3.6")) }
    func testPython3_7() throws { try checkWallAndCPU(PythonInterpreters.require("3.7")) }
    func testPython3_8() throws { try checkWallAndCPU(PythonInterpreters.require("3.8")) }
    func testPython3_9() throws { try checkWallAndCPU(PythonInterpreters.require("3.9")) }
    func testPython3_10() throws { try checkWallAndCPU(PythonInterpreters.require("3.10")) }
    func testPython3_11() throws { try checkWallAndCPU(PythonInterpreters.require("3.11")) }
    func testPython3_12() throws { try checkWallAndCPU(PythonInterpreters.require("3.12")) }
    func testDebianStaticPython3_11() throws { try checkWallAndCPU(PythonInterpreters.require("3.11-debian")) }
    func testPython3_13() throws { try checkWallAndCPU(PythonInterpreters.require("3.13")) }
    func testDebianPython3_13() throws { try checkWallAndCPU(PythonInterpreters.requireDebian("3.13-debian-unstable")) }
    func testDebianPython3_14() throws { try checkWallAndCPU(PythonInterpreters.requireDebian("3.14-debian-unstable")) }
    func testDebianPython3_15() throws { try checkWallAndCPU(PythonInterpreters.requireDebian("3.15-debian-unstable")) }
    func testDebianPython3_14Debug() throws { try checkWallAndCPU(PythonInterpreters.requireDebian("3.14-debian-dbg")) }
    func testDebianPython3_15Debug() throws { try checkWallAndCPU(PythonInterpreters.requireDebian("3.15-debian-dbg")) }
    func testDebianPython3_14WithTheJIT() throws { try checkWallAndCPU(PythonInterpreters.requireDebian("3.14-debian-jit")) }
    func testDebianPython3_15WithTheJIT() throws { try checkWallAndCPU(PythonInterpreters.requireDebian("3.15-debian-jit")) }

    /// Threads asleep before the recording starts and until it ends never
    /// switch, so the scheduler hook never sees them: each must still carry
    /// the whole recording's wall time, with its kernel stack.
    func testThreadsAsleepForTheWholeRecording() throws {
        try TestSupport.requireRoot()
        let python = try PythonInterpreters.require("3.12")
        let script = """
            import sys, threading
            pool = [threading.Thread(target=threading.Event().wait, daemon=True) for _ in range(2)]
            for thread in pool: thread.start()
            print("ready"); sys.stdout.flush()
            threading.Event().wait()
            """
        let child = try FixtureChild(python.path, ["-c", script])
        defer { child.process.terminate(); child.process.waitUntilExit() }
        XCTAssertEqual(try child.readLine(timeout: 30), "ready")
        usleep(200_000)
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("sleepers.folded")
        let seconds = 2.0
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
            "record", "--clock", "wall", "--threads", "-F", "99", "-d", "\(seconds)", "-f", "folded", "-o", output.path,
            "-p", "\(child.pid)",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        var byThread: [String: Int] = [:]
        for line in lines {
            let frames = line.split(separator: ";")
            guard frames.count > 2, let space = line.lastIndex(of: " "), let count = Int(line[line.index(after: space)...])
            else { continue }
            byThread[String(frames[1]), default: 0] += count
            XCTAssertTrue(frames.contains { $0.hasSuffix("_[k]") && $0.contains("futex") }, "no futex wait in \(line)")
            XCTAssertTrue(line.contains("[off-cpu: sleeping]"), String(line))
        }
        XCTAssertEqual(byThread.count, 3, "the main thread and the pool of two: \(byThread)\n\(result.stderr)")
        for (thread, count) in byThread {
            XCTAssertEqual(Double(count), 99 * seconds, accuracy: 0.15 * 99 * seconds, "\(thread)'s wall time\n\(result.stderr)")
        }
        XCTAssertTrue(result.stderr.contains("threads asleep for the whole recording: 3"), result.stderr)
    }

    /// `--off-cpu-sampling 0.25` keeps a quarter of the switches; each kept
    /// interval weighs four times its length, so every thread still
    /// carries its wall time.
    func testSampledSwitchesKeepTheWallTime() throws {
        try TestSupport.requireRoot()
        let python = try PythonInterpreters.require("3.12")
        let seconds = 2.0
        let script = """
            import threading, time
            def nap(deadline):
                while time.time() < deadline: time.sleep(0.002)
            deadline = time.time() + \(seconds)
            naps = [threading.Thread(target=nap, args=(deadline,)) for _ in range(2)]
            for thread in naps: thread.start()
            for thread in naps: thread.join()
            """
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("sampled.folded")
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
            "record", "--clock", "wall", "--off-cpu-sampling", "0.25", "--threads", "-F", "99", "-f", "folded",
            "-o", output.path, "--", python.path, "-c", script,
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        var byThread: [String: Int] = [:]
        for line in try String(contentsOf: output, encoding: .utf8).split(separator: "\n") {
            let frames = line.split(separator: ";")
            guard frames.count > 2, line.contains("nap ("), let space = line.lastIndex(of: " "),
                  let count = Int(line[line.index(after: space)...]) else { continue }
            byThread[String(frames[1]), default: 0] += count
        }
        XCTAssertEqual(byThread.count, 2, "\(byThread)\n\(result.stderr)")
        for (thread, count) in byThread {
            XCTAssertEqual(Double(count), 99 * seconds, accuracy: 0.2 * 99 * seconds, "\(thread)'s wall time\n\(result.stderr)")
        }
        XCTAssertTrue(result.stderr.contains("off-CPU switches sampled out: "), result.stderr)
    }

    private struct Truth: Decodable {
        var pid: Int32
        var wait: Double
        var compute: Double
        var loop: Double
        /// The system call time.sleep waits in: clock_nanosleep, nanosleep or select.
        var sleep_call: String
        var jit: Bool
    }

    /// One folded line: frames root first, and its count.
    private struct Line {
        var frames: [String]
        var count: Int
        func has(_ function: String) -> Bool { frames.contains { $0.hasPrefix(function + " (") } }
        var offCPU: Bool { frames.last?.hasPrefix("[off-cpu: ") ?? false }
    }

    private func record(_ python: PythonInterpreter, clock: String) throws -> (lines: [Line], truth: Truth, stderr: String) {
        // Under the interpreter's root for a chroot one, so that it reaches
        // the script and writes its report there.
        let directory = try python.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("\(clock).folded")
        let report = directory.appendingPathComponent("truth.json")
        let script = directory.appendingPathComponent("offcpu_waits.py")
        for name in ["offcpu_waits.py", "workload.py"] {
            try FileManager.default.copyItem(at: PythonInterpreters.script(name), to: directory.appendingPathComponent(name))
        }
        let command = [python.path, "-B", python.innerPath(script.path), "\(Self.seconds)", python.innerPath(report.path)]
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
            "record", "--clock", clock, "--threads", "-F", "99", "-f", "folded", "-o", output.path, "--",
        ] + python.launcher + command)
        XCTAssertEqual(result.status, 0, result.stderr)
        let truth = try JSONDecoder().decode(Truth.self, from: Data(contentsOf: report))
        XCTAssertEqual(truth.jit, python.environment["PYTHON_JIT"] == "1", "\(python): is the JIT on?")
        let text = try String(contentsOf: output, encoding: .utf8)
        let lines: [Line] = text.split(separator: "\n").compactMap { line in
            guard let space = line.lastIndex(of: " "), let count = Int(line[line.index(after: space)...]) else { return nil }
            return Line(frames: line[..<space].split(separator: ";").map(String.init), count: count)
        }
        return (lines, truth, result.stderr)
    }

    private func checkWallAndCPU(_ python: PythonInterpreter) throws {
        try TestSupport.requireRoot()
        let wall = try record(python, clock: "wall")
        let client = wall.lines.filter { $0.has("client_loop") }
        let total = Double(client.reduce(0) { $0 + $1.count })
        XCTAssertGreaterThan(total, 0.8 * 99 * wall.truth.loop, "\(python): the client thread is missing wall time:\n\(wall.stderr)")
        func share(_ lines: [Line], _ function: String) -> Double {
            Double(lines.filter { $0.has(function) }.reduce(0) { $0 + $1.count }) / max(total, 1)
        }
        let waitShare = share(client, "wait_for_reply"), computeShare = share(client, "compute")
        let waitTruth = wall.truth.wait / wall.truth.loop, computeTruth = wall.truth.compute / wall.truth.loop
        print("\(python) --clock wall: wait_for_reply \(waitShare) (truth \(waitTruth)), compute \(computeShare) (truth \(computeTruth))")
        XCTAssertEqual(waitShare, waitTruth, accuracy: 0.05, "\(python): wait_for_reply's wall share\n\(wall.stderr)")
        XCTAssertEqual(computeShare, computeTruth, accuracy: 0.05, "\(python): compute's wall share\n\(wall.stderr)")

        // Each wait shows off CPU, under its Python caller, with the kernel
        // path that waits.
        print("\(python): time.sleep waits in \(wall.truth.sleep_call)")
        for (function, kernel) in Self.waits(sleepCall: wall.truth.sleep_call) {
            let stacks = wall.lines.filter { $0.offCPU && $0.has(function) }
            let waited = stacks.reduce(0) { $0 + $1.count }
            XCTAssertGreaterThan(waited, 0, "\(python): no off-CPU stack under \(function)")
            let plausible = stacks.filter { line in
                line.frames.contains { frame in frame.hasSuffix("_[k]") && kernel.contains { frame.contains($0) } }
            }
            XCTAssertGreaterThan(plausible.reduce(0) { $0 + $1.count }, waited / 2, """
                \(python): \(function)'s off-CPU stacks lack a kernel frame naming \(kernel):
                \(stacks.prefix(3).map { $0.frames.suffix(12).joined(separator: ";") }.joined(separator: "\n"))
                """)
        }
        XCTAssertTrue(wall.lines.contains { $0.frames.last == "[off-cpu: sleeping]" }, "\(python): no [off-cpu: sleeping] frame")

        // With the CPU clock the blocking function nearly vanishes.
        let cpu = try record(python, clock: "cpu")
        XCTAssertFalse(cpu.lines.contains { $0.offCPU }, "\(python): off-CPU stacks in a CPU profile")
        let cpuClient = cpu.lines.filter { $0.has("client_loop") }
        let cpuTotal = Double(cpuClient.reduce(0) { $0 + $1.count })
        let cpuWait = Double(cpuClient.filter { $0.has("wait_for_reply") }.reduce(0) { $0 + $1.count })
        print("\(python) --clock cpu: wait_for_reply \(cpuWait / max(cpuTotal, 1)) of \(cpuTotal) client samples")
        XCTAssertGreaterThan(cpuTotal, 0, "\(python): no client samples in --clock cpu\n\(cpu.stderr)")
        XCTAssertLessThan(cpuWait / max(cpuTotal, 1), 0.1, "\(python): wait_for_reply in --clock cpu")
    }
}
