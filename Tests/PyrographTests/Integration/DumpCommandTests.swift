import Foundation
import Glibc
import ProcessInspection
import PythonRuntime
@testable import ThreadDump
import XCTest

/// `pyrograph dump` against real interpreters (as root): each thread's
/// stack, names and tid as the interpreter itself reports them with
/// sys._current_frames().
final class DumpCommandTests: XCTestCase {
    struct Expected: Decodable {
        struct Thread: Decodable {
            var ident: UInt64
            var tid: Int32
            var name: String
            var stack: [DumpFrame]
        }
        var pid: Int32
        var threads: [Thread]
    }

    func testDumpShowsEveryThreadsStackAndNamesAsTheInterpreterDoes() throws {
        try TestSupport.requireRoot()
        let debian = FileManager.default.fileExists(atPath: PythonInterpreters.debianRoot + "/.pyrograph-complete")
            ? PythonInterpreters.debian : []
        if debian.isEmpty { print("skipping Debian unstable's interpreters: \(PythonInterpreters.debianRoot) is missing") }
        for interpreter in PythonInterpreters.all + debian {
            let (run, expected) = try start(interpreter)
            defer { run.process.terminate(); run.process.waitUntilExit() }
            let result = try TestSupport.run(try TestSupport.pyrographBinary(), ["dump", "-p", String(expected.pid), "--json"])
            XCTAssertEqual(result.status, 0, "\(interpreter.label): \(result.stderr)")
            let document = try JSONDecoder().decode(DumpJSONWriter.Document.self, from: Data(result.stdout.utf8))
            let process = try XCTUnwrap(document.processes.first, "\(interpreter.label): no process in \(result.stdout)")
            XCTAssertEqual(process.pid, expected.pid)
            check(process, against: expected, interpreter.label)
            try checkGIL(process, expected, interpreter)

            // The text is sanitized: the burner's name holds an escape.
            let text = try TestSupport.run(try TestSupport.pyrographBinary(), ["dump", "-p", String(expected.pid)])
            XCTAssertEqual(text.status, 0, "\(interpreter.label): \(text.stderr)")
            XCTAssertFalse(text.stdout.contains("\u{1b}"), "\(interpreter.label): a raw escape reached the terminal")
            XCTAssertTrue(text.stdout.contains("burner (\(expected.threads[0].stack[0].file ?? "")"), interpreter.label)
        }
    }

    func testAHundredThreadsAreEachDumped() throws {
        try TestSupport.requireRoot()
        let (run, expected) = try start(try PythonInterpreters.require("3.12"), extraSleepers: 100)
        defer { run.process.terminate(); run.process.waitUntilExit() }
        let started = Date()
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), ["dump", "-p", String(expected.pid), "--json"])
        print("dump of \(expected.threads.count) threads took \(Int(Date().timeIntervalSince(started) * 1000)) ms")
        XCTAssertEqual(result.status, 0, result.stderr)
        let document = try JSONDecoder().decode(DumpJSONWriter.Document.self, from: Data(result.stdout.utf8))
        let process = try XCTUnwrap(document.processes.first)
        XCTAssertEqual(expected.threads.count, 105)
        check(process, against: expected, "3.12, 105 threads")
    }

    /// --lock stops the process for the read and lets it go: the stacks are
    /// the same, and the burning thread burns on afterwards.
    func testLockReadsTheSameStacksAndLetsTheProcessGo() throws {
        try TestSupport.requireRoot()
        let (run, expected) = try start(try PythonInterpreters.require("3.11"))
        defer { run.process.terminate(); run.process.waitUntilExit() }
        let result = try TestSupport.run(try TestSupport.pyrographBinary(),
                                         ["dump", "-p", String(expected.pid), "--json", "--lock", "--native"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let document = try JSONDecoder().decode(DumpJSONWriter.Document.self, from: Data(result.stdout.utf8))
        let process = try XCTUnwrap(document.processes.first)
        XCTAssertTrue(process.locked)
        check(process, against: expected, "3.11 --lock")
        for thread in process.threads {
            XCTAssertEqual(thread.native?.source, .registers, "thread \(thread.tid ?? -1)")
            XCTAssertFalse(thread.native?.frames.isEmpty ?? true)
        }
        let sleeper = try XCTUnwrap(process.threads.first { $0.tid == expected.threads[0].tid })
        XCTAssertTrue(sleeper.kernelStack?.contains { $0.contains("nanosleep") } ?? false,
                      "the sleeper's kernel stack, read before the stop: \(sleeper.kernelStack ?? [])")

        let burner = expected.threads[3].tid
        let before = try cpuTicks(pid: expected.pid, tid: burner)
        usleep(300_000)
        XCTAssertGreaterThan(try cpuTicks(pid: expected.pid, tid: burner), before, "the burner did not run after --lock")
        for thread in expected.threads {
            let state = ProcessStatus(pid: thread.tid, procRoot: "/proc/\(expected.pid)/task")?.state
            XCTAssertNotEqual(state, "t", "thread \(thread.tid) is still stopped by ptrace")
            XCTAssertNotEqual(state, "T", "thread \(thread.tid) is still stopped")
        }
    }

    /// The freezer in this process (whose exit would detach anyway): every
    /// thread is stopped while it holds them, and runs after release().
    func testFreezerStopsEveryThreadAndReleasesThem() throws {
        try TestSupport.requireRoot()
        let (run, expected) = try start(try PythonInterpreters.require("3.9"))
        defer { run.process.terminate(); run.process.waitUntilExit() }
        func states() -> [Character?] {
            expected.threads.map { ProcessStatus(pid: $0.tid, procRoot: "/proc/\(expected.pid)/task")?.state }
        }
        let freezer = try ProcessFreezer(pid: expected.pid)
        XCTAssertEqual(freezer.stoppedThreads, Set(expected.threads.map(\.tid)))
        XCTAssertEqual(states(), expected.threads.map { _ in "t" })
        freezer.release()
        usleep(100_000)
        XCTAssertFalse(states().contains("t"), "threads still stopped after release: \(states())")
        let burner = expected.threads[3].tid
        let before = try cpuTicks(pid: expected.pid, tid: burner)
        usleep(300_000)
        XCTAssertGreaterThan(try cpuTicks(pid: expected.pid, tid: burner), before, "the burner did not run after release")
    }

    /// A process that exits between finding it and reading its threads is
    /// reported as such, not as an empty or broken dump.
    func testAProcessThatExitsWhileDumpedIsSaidToHaveExited() throws {
        try TestSupport.requireRoot()
        let (run, expected) = try start(try PythonInterpreters.require("3.10"))
        defer { run.process.terminate(); run.process.waitUntilExit() }
        let dumper = ProcessDumper(options: .init()) { pid in
            ExitingMemory(live: try ProcessMemory(pid: pid), process: run.process)
        }
        XCTAssertThrowsError(try dumper.dump(pid: expected.pid)) { error in
            XCTAssertEqual(error as? DumpError, .exitedWhileDumping(pid: expected.pid))
            XCTAssertEqual("\(error)", "process \(expected.pid) exited while it was being dumped")
        }
    }

    func testNonPythonAndMissingProcessesAreClearErrors() throws {
        try TestSupport.requireRoot()
        let sleep = Process()
        sleep.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleep.arguments = ["30"]
        try sleep.run()
        defer { sleep.terminate(); sleep.waitUntilExit() }
        let binary = try TestSupport.pyrographBinary()
        let notPython = try TestSupport.run(binary, ["dump", "-p", String(sleep.processIdentifier)])
        XCTAssertEqual(notPython.status, 1)
        XCTAssertTrue(notPython.stderr.contains("does not run a Python interpreter"), notPython.stderr)
        XCTAssertEqual(notPython.stdout, "")

        let missing = try TestSupport.run(binary, ["dump", "-p", "999999999"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("process 999999999 does not exist"), missing.stderr)
    }

    // MARK: - Helpers

    private func start(_ interpreter: PythonInterpreter, extraSleepers: Int = 0) throws -> (PythonRun, Expected) {
        let directory = try interpreter.temporaryDirectory()
        let report = directory.appendingPathComponent("threads.json")
        let run = try interpreter.start(PythonInterpreters.script("dump_target.py"),
                                        [report.path, String(extraSleepers)], in: directory)
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: report.path) {
            guard run.process.isRunning, Date() < deadline else {
                let log = (try? String(contentsOf: run.log, encoding: .utf8)) ?? ""
                XCTFail("\(interpreter): dump_target.py wrote no report:\n\(log)")
                throw CancellationError()
            }
            usleep(20_000)
        }
        return (run, try JSONDecoder().decode(Expected.self, from: Data(contentsOf: report)))
    }

    private func check(_ process: ProcessSnapshot, against expected: Expected, _ label: String) {
        for thread in expected.threads {
            guard let dumped = process.threads.first(where: { $0.tid == thread.tid }) else {
                XCTFail("\(label): thread \(thread.tid) (\(thread.name)) is missing from the dump")
                continue
            }
            XCTAssertEqual(dumped.pythonThreadID, thread.ident, "\(label): \(thread.name)")
            XCTAssertEqual(dumped.pythonName, thread.name, "\(label): the Python thread name")
            XCTAssertEqual(dumped.frames, thread.stack, "\(label): \(thread.name)'s stack")
            XCTAssertTrue([.consistent, .locked].contains(dumped.stack.outcome),
                          "\(label): \(thread.name): \(dumped.stack.outcome)")
            let comm = try? ProcessDirectory(pid: process.pid).threadComm(tid: thread.tid)
            XCTAssertEqual(dumped.osName, comm, "\(label): \(thread.name)'s OS name")
        }
        XCTAssertEqual(process.threads.filter { $0.pythonThreadID != nil }.count, expected.threads.count,
                       "\(label): Python threads dumped")
    }

    /// holdsGIL: said of every Python thread (2.7 and 3.6 too, through
    /// _PyThreadState_Current), true of one at most; the burner, the one
    /// thread that runs Python all the time, holds it in 2 or more of 5 dumps.
    private func checkGIL(_ first: ProcessSnapshot, _ expected: Expected, _ interpreter: PythonInterpreter) throws {
        var burnerHeld = 0
        for dump in 0..<5 {
            let process: ProcessSnapshot
            if dump == 0 {
                process = first
            } else {
                let result = try TestSupport.run(try TestSupport.pyrographBinary(), ["dump", "-p", String(expected.pid), "--json"])
                process = try XCTUnwrap(try JSONDecoder().decode(DumpJSONWriter.Document.self, from: Data(result.stdout.utf8))
                    .processes.first)
            }
            let states = process.threads.filter { $0.pythonThreadID != nil }.map(\.holdsGIL)
            XCTAssertFalse(states.contains(nil), "\(interpreter.label): a Python thread without a GIL state")
            XCTAssertLessThanOrEqual(states.filter { $0 == true }.count, 1, "\(interpreter.label): two GIL holders")
            if process.threads.first(where: { $0.tid == expected.threads[3].tid })?.holdsGIL == true { burnerHeld += 1 }
        }
        XCTAssertGreaterThanOrEqual(burnerHeld, 2, "\(interpreter.label): the burner held the GIL in \(burnerHeld) of 5 dumps")
    }

    private func cpuTicks(pid: Int32, tid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/task/\(tid)/stat", encoding: .utf8)
        let fields = stat[stat.range(of: ")", options: .backwards)!.upperBound...].split(separator: " ")
        return Int(fields[11])! + Int(fields[12])!  // utime, stime
    }
}

/// Kills the process at the first read, as if it exited while dumped.
private final class ExitingMemory: MemoryReader {
    private let live: MemoryReader
    private let process: Process
    private var killed = false

    init(live: MemoryReader, process: Process) {
        self.live = live
        self.process = process
    }

    func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        if !killed {
            killed = true
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return live.read(address, into: buffer)
    }
}

/// `record --threads` names thread frames as `threading` named the threads.
final class RecordThreadNameTests: XCTestCase {
    func testThreadFramesCarryThePythonThreadNames() throws {
        try TestSupport.requireRoot()
        for python in PythonInterpreters.all {
            let directory = try TestSupport.temporaryDirectory()
            let output = directory.appendingPathComponent("threads.folded")
            let report = directory.appendingPathComponent("names.json")
            let result = try TestSupport.run(try TestSupport.pyrographBinary(), [
                "record", "--threads", "-F", "199", "-f", "folded", "-o", output.path, "--",
                python.path, PythonInterpreters.script("named_threads.py").path, "1", report.path,
            ])
            XCTAssertEqual(result.status, 0, "\(python): \(result.stderr)")
            let names = try JSONDecoder().decode([String: [String: String]].self, from: Data(contentsOf: report))["names"] ?? [:]
            XCTAssertEqual(Set(names.values), ["cruncher-A", "cruncher-B"], python.label)
            // (thread frame, samples) of every folded line.
            let lines: [(thread: String, count: Int)] = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
                .compactMap { line in
                    let frames = line.split(separator: ";")
                    guard frames.count > 1, let space = line.lastIndex(of: " "),
                          let count = Int(line[line.index(after: space)...]) else { return nil }
                    return (String(frames[1]), count)
                }
            for (tid, name) in names {
                let frame = "\(name) (\(tid))"
                let named = lines.filter { $0.thread == frame }.reduce(0) { $0 + $1.count }
                let all = lines.filter { $0.thread.hasSuffix("(\(tid))") }.reduce(0) { $0 + $1.count }
                print("\(python.label): \(named) of \(all) samples of thread \(tid) under \(frame)")
                // A thread sampled before threading registered it keeps its
                // OS name on those first stacks (up to 50 ms of its 1 s).
                XCTAssertGreaterThan(all, 20, "\(python): thread \(tid) was hardly sampled")
                XCTAssertGreaterThanOrEqual(Double(named), 0.8 * Double(all),
                                            "\(python): thread \(tid)'s samples under \(frame): \(Set(lines.map(\.thread)))")
            }
        }
    }
}
