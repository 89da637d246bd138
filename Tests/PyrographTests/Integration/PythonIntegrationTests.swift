import Foundation
import XCTest

/// Python stacks checked against ground truth. Fixtures/python/workload.py
/// measures its own CPU shares and watches its own stacks through
/// sys._current_frames(); the profile of the same run must agree with it.
///
/// Definitions used by every test here:
/// - a Python frame is a folded frame `NAME (FILE:LINE)` whose FILE ends in
///   `.py`; other frames (native, kernel, annotations) are ignored, so the
///   tests do not depend on `--python-only`;
/// - a sample's innermost Python frame is the last Python frame of its stack;
/// - a task's profile share is the number of main-thread samples (under
///   `THREAD (PID)`) whose innermost Python frame is one of the task's
///   functions in workload.py, over the number whose innermost Python frame
///   is any task's function;
/// - its workload share is the main thread's CPU time
///   (CLOCK_THREAD_CPUTIME_ID) inside the task's slices over the CPU time
///   inside all slices.
final class PythonIntegrationTests: XCTestCase {
    /// Samples expected per second of a thread's CPU, as a share of the
    /// rate. On this VM, with more busy threads than CPUs, the kernel
    /// delivers about 75 to 80% of rate x CPU time with nothing lost (cause
    /// not found; see the closing note), so the floor sits below that.
    static let samplingFloor = 0.6

    let frequency = 499
    let workloadSeconds = 4.0

    // MARK: One interpreter at a time

    func testPython2_7() throws { try checkAgainstGroundTruth("2.7") }
    func testPython3_6() throws { try checkAgainstGroundTruth("3.6") }
    func testPython3_7() throws { try checkAgainstGroundTruth("3.7") }
    func testPython3_8() throws { try checkAgainstGroundTruth("3.8") }
    func testPython3_9() throws { try checkAgainstGroundTruth("3.9") }
    func testPython3_10() throws { try checkAgainstGroundTruth("3.10") }
    func testPython3_11() throws { try checkAgainstGroundTruth("3.11") }
    func testPython3_12() throws { try checkAgainstGroundTruth("3.12") }
    func testPython3_13() throws { try checkAgainstGroundTruth("3.13") }
    func testDebianStaticPython3_11() throws { try checkAgainstGroundTruth("3.11-debian") }

    // Debian unstable's builds, run in a chroot (Tests/Interpreters/debian-unstable.sh).
    func testDebianUnstablePython3_13() throws { try checkAgainstGroundTruth("3.13-debian-unstable") }
    func testDebianUnstablePython3_14() throws { try checkAgainstGroundTruth("3.14-debian-unstable") }
    func testDebianUnstablePython3_15() throws { try checkAgainstGroundTruth("3.15-debian-unstable") }
    func testDebianUnstablePython3_14Debug() throws { try checkAgainstGroundTruth("3.14-debian-dbg") }
    func testDebianUnstablePython3_15Debug() throws { try checkAgainstGroundTruth("3.15-debian-dbg") }
    func testDebianUnstablePython3_14WithTheJIT() throws { try checkAgainstGroundTruth("3.14-debian-jit") }
    func testDebianUnstablePython3_15WithTheJIT() throws { try checkAgainstGroundTruth("3.15-debian-jit") }

    /// An interpreter made unreadable on purpose (Debian's python3.14 with
    /// its _Py_DebugOffsets cookie corrupted in a copy) is still profiled in
    /// the default mode: its samples keep their native and kernel frames
    /// under one frame that says why, and the summary says it too.
    func testAnUnreadableInterpreterKeepsNativeFramesAndSaysWhy() throws {
        try TestSupport.requireRoot()
        let python = try PythonInterpreters.requireDebian("3.14-debian-unstable")
        let directory = try python.temporaryDirectory()
        let copy = directory.appendingPathComponent("python3.14")
        try FileManager.default.copyItem(atPath: python.hostPath, toPath: copy.path)
        var binary = try Data(contentsOf: copy)
        var searched = binary.startIndex..<binary.endIndex
        while let at = binary.range(of: Data("xdebugpy".utf8), in: searched) {
            searched = at.upperBound..<binary.endIndex
            // The table (followed by PY_VERSION_HEX 3.14), not the string in .rodata.
            if binary[at.upperBound + 3] == 3 && binary[at.upperBound + 2] == 14 {
                binary.replaceSubrange(at, with: Data("xdebugpX".utf8))
            }
        }
        try binary.write(to: copy)
        let output = directory.appendingPathComponent("profile.folded")
        let busy = Process()
        busy.executableURL = URL(fileURLWithPath: "/usr/sbin/chroot")
        busy.arguments = [python.root!, python.innerPath(copy.path), "-c",
                          "import time\nend = time.time() + 6\nwhile time.time() < end: pass"]
        try busy.run()
        defer { busy.terminate(); busy.waitUntilExit() }
        usleep(300_000)
        let recording = try RunningRecording(arguments: ["record", "--full-filenames", "--interpreter-frames", "-f", "folded", "-o", output.path, "-d", "2"])
        XCTAssertEqual(recording.wait(), 0, recording.stderr)
        let profile = try readProfile(output, recording)
        let stacks = profile.stacks.filter { $0.frames.first?.hasSuffix(" (\(busy.processIdentifier))") == true }
        let total = stacks.reduce(0) { $0 + $1.count }
        XCTAssertGreaterThan(total, 50, "samples of the unreadable interpreter; pyrograph said:\n\(recording.stderr)")
        let reason = stacks.filter { $0.frames.count > 2 && $0.frames[1].hasPrefix("[python 3.14.") && $0.frames[1].hasSuffix(": _Py_DebugOffsets not found]") }
        XCTAssertEqual(reason.reduce(0) { $0 + $1.count }, total, "every sample carries the reason frame under the process")
        let native = reason.filter { $0.frames.contains { $0.hasPrefix("_start ") } && $0.frames.contains { $0.hasPrefix("PyEval_EvalCode ") } }
        XCTAssertGreaterThanOrEqual(Double(native.reduce(0) { $0 + $1.count }), 0.9 * Double(total), "native frames kept")
        XCTAssertTrue(recording.stderr.contains("pid \(busy.processIdentifier) (") && recording.stderr.contains("no _Py_DebugOffsets at the start of _PyRuntime"),
                      recording.stderr)
    }

    /// One workload run of `workloadSeconds` under one interpreter, recorded
    /// system-wide with --threads. The interpreter starts before the
    /// recording and waits for a start file created once it samples, so that
    /// a slow start of either does not cut the run short. Checks (i) the task
    /// shares, (ii) names, files and lines, and the full stacks including the
    /// recursion's, and (iii) the worker thread.
    private func checkAgainstGroundTruth(_ label: String) throws {
        try TestSupport.requireRoot()
        try checkAgainstGroundTruth(label.contains("debian-") ? try PythonInterpreters.requireDebian(label)
                                        : try PythonInterpreters.require(label))
    }

    // Builds this machine cannot get: Debian ships neither, its source
    // packages are not served and CPython's repository is too large to
    // fetch. Given one (an interpreter's path in the variable), the same
    // ground truth runs on it; without, the test says it was skipped.
    func testAFreeThreadedBuildWhenOneIsGiven() throws {
        try checkAgainstGroundTruth(try PythonInterpreters.given("PYROGRAPH_FREE_THREADED_PYTHON", label: "free-threaded"))
    }

    func testATailCallBuildWhenOneIsGiven() throws {
        try checkAgainstGroundTruth(try PythonInterpreters.given("PYROGRAPH_TAIL_CALL_PYTHON", label: "tail-call"))
    }

    private func checkAgainstGroundTruth(_ python: PythonInterpreter) throws {
        try TestSupport.requireRoot()
        let directory = try python.temporaryDirectory()
        let output = directory.appendingPathComponent("profile.folded")
        let reportURL = directory.appendingPathComponent("report.json")
        let go = directory.appendingPathComponent("go")

        let run = try python.start(PythonInterpreters.script("workload.py"), ["\(workloadSeconds)", reportURL.path, go.path],
                                   in: directory)
        let recording = try RunningRecording(arguments: ["record", "--full-filenames", "--interpreter-frames", "-f", "folded", "-o", output.path,
                                                         "-d", "\(workloadSeconds + 1.5)", "-F", "\(frequency)", "--threads"])
        try release([run], with: go, when: recording)
        let report = try run.finish(WorkloadReport.self, report: reportURL)
        XCTAssertEqual(recording.wait(), 0, recording.stderr)
        try checkSanity(of: report, python)

        let process = FoldedProcess(try readProfile(output, recording), pid: report.pid)
        guard process.total > 0 else {
            return XCTFail("\(python): no samples of pid \(report.pid) in the profile; pyrograph said:\n\(recording.stderr)")
        }
        let main = process.thread(report.threads.main)
        checkShares(report, main, python, pyrograph: recording.stderr)
        checkFramesAreKnown(report, process, python)
        checkLines(report, process, python)
        checkStacksMatchSnapshots(report, process, python)
        checkWorkerThread(report, process, python, pyrograph: recording.stderr)
        if python.root != nil { checkPythonFramesSitInTheNativeStack(main, python) }
        if python.environment["PYTHON_JIT"] == "1" { checkTheJITRan(report, main, python) }
        if python.label.hasSuffix("-dbg") {
            // A debug build is counted apart from the release build of its version.
            let version = report.version.split(separator: " ").first.map(String.init) ?? report.version
            XCTAssertTrue(recording.stderr.contains("python \(version) static debug: "), "\(python): \(recording.stderr)")
        }
    }

    /// Debian's stripped builds run most of their eval loop in a part no
    /// symbol names: the main thread's Python frames must still replace it,
    /// below the native frames that called into Python (PyEval_EvalCode,
    /// and a debug build's _PyEval_EvalFrame), not float at the root of the
    /// stack above `_start`.
    private func checkPythonFramesSitInTheNativeStack(_ main: FoldedProcess, _ python: PythonInterpreter) {
        let withPython = main.filter { !$0.python.isEmpty }
        // Root first: process, thread, then the stack.
        let jit = python.environment["PYTHON_JIT"] == "1"
        let placed = withPython.filter { sample in
            // In JIT code the native walk stops (no CFI there), with a
            // marker: nothing above it is known, so the Python frames are
            // the root, as they should be.
            if jit && sample.frames.contains(where: { $0.hasPrefix("[native unwind stopped") }) { return true }
            guard let first = sample.frames.firstIndex(where: { FoldedPythonFrame(folded: $0) != nil }) else { return false }
            return first > 2 && sample.frames[2..<first].contains { $0.hasPrefix("PyEval_EvalCode ") }
        }
        XCTAssertGreaterThanOrEqual(Double(placed.total), 0.9 * Double(withPython.total), """
            \(python): only \(placed.total) of \(withPython.total) main-thread samples have their Python frames under \
            PyEval_EvalCode; most common roots:
            \(withPython.histogram(top: 3) { $0.frames.dropFirst(2).prefix(3).joined(separator: ";") })
            """)
    }

    /// With PYTHON_JIT=1 the hot loops run as machine code in anonymous
    /// memory without CFI: the interpreter must say the JIT is on, and some
    /// main-thread samples must show the native walk stopping there, under
    /// the Python frames the other checks found right.
    private func checkTheJITRan(_ report: WorkloadReport, _ main: FoldedProcess, _ python: PythonInterpreter) {
        XCTAssertTrue(report.jit, "\(python): sys._jit says the JIT is off")
        let stopped = main.filter { sample in
            sample.frames.contains { $0.hasPrefix("[native unwind stopped") } && !sample.python.isEmpty
        }
        XCTAssertGreaterThan(stopped.total, 0, """
            \(python): no main-thread sample ran in JIT code; most common leaves:
            \(main.histogram(top: 5) { $0.frames.suffix(2).joined(separator: ";") })
            """)
    }

    /// (i) Each task's profile share is within 3 points (or 4 standard
    /// errors of the sampled share, if more) of the workload's
    /// measured share, and the main thread's busy samples number at least `samplingFloor`
    /// of rate x its CPU time in the tasks.
    private func checkShares(_ report: WorkloadReport, _ main: FoldedProcess, _ python: PythonInterpreter, pyrograph: String) {
        var taskOf: [String: String] = [:]
        for task in report.tasks { for name in task.functions { taskOf[name] = task.key } }
        var perTask: [String: Int] = [:]
        for sample in main.samples {
            guard let frame = sample.innermost, frame.file == report.script, let key = taskOf[frame.name] else { continue }
            perTask[key, default: 0] += sample.count
        }
        let busy = perTask.values.reduce(0, +)
        let expected = Double(frequency) * report.tasksCpuSeconds
        XCTAssertGreaterThanOrEqual(Double(busy), Self.samplingFloor * expected, """
            \(python): \(busy) main-thread samples have a task function as innermost Python frame; \
            expected about \(Int(expected)) (\(frequency) Hz x \(format(report.tasksCpuSeconds)) s of CPU in the tasks). \
            The main thread's innermost Python frames:
            \(main.histogram(top: 12) { $0.innermost?.description ?? "(no Python frame)" })
            pyrograph said:
            \(pyrograph)
            """)
        guard busy > 0 else { return }
        var table = "task        profile          workload (measured)  intended\n"
        var outside: [String] = []
        for task in report.tasks {
            let share = Double(perTask[task.key] ?? 0) / Double(busy)
            table += "\(task.key.padding(toLength: 12, withPad: " ", startingAt: 0))"
                + "\(percent(share)) (\(perTask[task.key] ?? 0))".padding(toLength: 17, withPad: " ", startingAt: 0)
                + "\(percent(task.measuredShare))".padding(toLength: 21, withPad: " ", startingAt: 0)
                + "\(percent(task.intendedShare))\n"
            // 3 points, or 4 standard errors of the sampled share where that
            // is more: about 100 shares are compared per `make test`, and
            // sampling noise alone must not fail one (2.7's lambda, with
            // ~1,500 samples, was 3.2 and 3.3 points off in 2 of 4 fresh-clone
            // runs, 3.5 standard errors; never in 10 runs alone).
            let standardError = (share * (1 - share) / Double(busy)).squareRoot()
            if abs(share - task.measuredShare) > max(0.03, 4 * standardError) { outside.append(task.key) }
        }
        print("\(python): task shares (\(busy) samples):\n\(table)")
        XCTAssertTrue(outside.isEmpty, """
            \(python): shares of \(outside) are more than 3 points (or 4 standard errors) off (\(busy) samples):
            \(table)
            The main thread's innermost Python frames:
            \(main.histogram(top: 12) { $0.innermost?.description ?? "(no Python frame)" })
            """)
    }

    /// (ii) Every Python frame of workload.py names a function the interpreter
    /// reported (co_qualname on 3.11+, co_name before) with its exact
    /// co_filename, on a line of that function's line table (or its first
    /// line: see PythonSelfReport.knows).
    private func checkFramesAreKnown(_ report: PythonSelfReport, _ process: FoldedProcess, _ python: PythonInterpreter) {
        let unknown = unknownFrames(report, process)
        XCTAssertTrue(unknown.isEmpty, """
            \(python): Python frames of \(report.script) that the interpreter does not report \
            (name, co_filename and line table), with sample counts:
            \(unknown.sorted { $0.value > $1.value }.prefix(15).map { "  \($0.key) \($0.value)" }.joined(separator: "\n"))
            """)
    }

    /// (ii) Where a busy function is the innermost Python frame, all but 3%
    /// (plus 2 samples) of its samples are on lines the interpreter itself was
    /// seen on through sys._current_frames(); the rest (function entry, loop
    /// exit) must still be in its line table, which checkFramesAreKnown
    /// checks.
    private func checkLines(_ report: WorkloadReport, _ process: FoldedProcess, _ python: PythonInterpreter) {
        let busy = report.tasks.flatMap(\.functions) + [report.worker.function]
        for name in busy {
            let observed = report.observedLines(name, file: report.script)
            let samples = process.filter { $0.innermost?.name == name && $0.innermost?.file == report.script }
            let off = samples.filter { !observed.contains($0.innermost!.line) }
            XCTAssertLessThanOrEqual(Double(off.total), 0.03 * Double(samples.total) + 2, """
                \(python): \(name) is on lines \(samples.histogram(top: 8) { "\($0.innermost!.line)" }.replacingOccurrences(of: "\n", with: ", ")) \
                in the profile, but the interpreter saw it on \(observed.sorted()) only
                """)
        }
    }

    /// (ii, iii) The main thread's samples in each task's principal function,
    /// and the worker's in thread_worker, carry exactly the Python stack the
    /// interpreter reported for them, frame by frame from `<module>` (or
    /// threading's bootstrap) down; the recursion's is 100 frames deep.
    private func checkStacksMatchSnapshots(_ report: WorkloadReport, _ process: FoldedProcess, _ python: PythonInterpreter) {
        let roles = [(report.threads.main, "main", report.tasks.map(\.principal)),
                     (report.threads.worker, "worker", [report.worker.function])]
        for (tid, role, functions) in roles {
            for function in functions {
                guard let snapshot = report.snapshots.first(where: { $0.thread == role && $0.innermost == function }) else { continue }
                let samples = process.thread(tid).filter { $0.innermost?.name == function && $0.innermost?.file == report.script }
                let observed = report.observedLines(function, file: report.script)
                let matching = samples.filter { Self.sameStack($0.python, snapshot.stack, innermostLines: observed) }
                let others = samples.filter { !Self.sameStack($0.python, snapshot.stack, innermostLines: observed) }
                XCTAssertGreaterThanOrEqual(Double(matching.total), 0.9 * Double(samples.total), """
                    \(python): only \(matching.total) of \(samples.total) samples of the \(role) thread in \(function) \
                    have the interpreter's stack
                      expected: \(FoldedPythonFrame.describe(snapshot.stack))
                      most common others in the profile:
                    \(others.histogram(top: 3) { $0.pythonDescription })
                    """)
                XCTAssertGreaterThan(samples.total, 0, "\(python): no samples of the \(role) thread (\(tid)) have \(function) innermost")
            }
        }
    }

    /// (iii) The worker thread's frames are under its own THREAD (TID): its
    /// samples number at least `samplingFloor` of rate x its CPU time, and no task
    /// function shows up there, nor thread_worker under the main thread.
    private func checkWorkerThread(_ report: WorkloadReport, _ process: FoldedProcess, _ python: PythonInterpreter,
                                   pyrograph: String) {
        let worker = process.thread(report.threads.worker)
        let main = process.thread(report.threads.main)
        let expected = Double(frequency) * report.worker.cpuSeconds
        XCTAssertGreaterThanOrEqual(Double(worker.total), Self.samplingFloor * expected, """
            \(python): \(worker.total) samples under the worker thread \(report.threads.worker); expected about \(Int(expected)) \
            (\(frequency) Hz x \(format(report.worker.cpuSeconds)) s). Threads of pid \(report.pid) in the profile: \
            \(process.histogram(top: 6) { $0.frames.count > 1 ? $0.frames[1] : "(none)" }.replacingOccurrences(of: "\n", with: ", "))
            pyrograph said:
            \(pyrograph)
            """)
        let taskFunctions = Set(report.tasks.flatMap(\.functions))
        let strays = worker.filter { $0.python.contains { $0.file == report.script && taskFunctions.contains($0.name) } }
        XCTAssertEqual(strays.total, 0,
                       "\(python): main-thread functions under the worker thread:\n\(strays.histogram(top: 3) { $0.pythonDescription })")
        let reverse = main.filter { $0.python.contains { $0.file == report.script && $0.name == report.worker.function } }
        XCTAssertEqual(reverse.total, 0,
                       "\(python): \(report.worker.function) under the main thread:\n\(reverse.histogram(top: 3) { $0.pythonDescription })")
    }

    /// The ground truth itself: the right interpreter ran, every task got
    /// slices and CPU, the sampler saw every busy function, and the
    /// recursion was seen at full depth.
    private func checkSanity(of report: WorkloadReport, _ python: PythonInterpreter) throws {
        var problems: [String] = []
        if !report.version.hasPrefix(python.versionPrefix) { problems.append("sys.version is \(report.version)") }
        for task in report.tasks where task.slices < 5 || task.cpuSeconds <= 0 {
            problems.append("task \(task.key) ran \(task.slices) slices, \(task.cpuSeconds) s of CPU")
        }
        for task in report.tasks where !report.snapshots.contains(where: { $0.thread == "main" && $0.innermost == task.principal }) {
            problems.append("the sampler never saw \(task.principal) innermost")
        }
        if !report.snapshots.contains(where: { $0.thread == "worker" && $0.innermost == report.worker.function }) {
            problems.append("the sampler never saw the worker in \(report.worker.function)")
        }
        let recursion = report.snapshots.first { $0.thread == "main" && $0.innermost == "recurse" }?.stack ?? []
        let depth = recursion.filter { $0.name == "recurse" }.count
        if depth != report.recursionDepth { problems.append("the deepest recursion seen is \(depth) frames, not \(report.recursionDepth)") }
        if !problems.isEmpty {
            XCTFail("\(python): the workload's ground truth is broken: \(problems.joined(separator: "; "))")
            throw CancellationError()
        }
    }

    // MARK: All interpreters at once

    /// (b) Ten workloads, one per interpreter, each a copy of workload.py
    /// with its own file name, run at once in one recording. They are started
    /// before it and wait for a start file created once it samples, so that
    /// noticing new processes is not part of this test (that is (d)). Under
    /// each
    /// process's `COMM (PID)`: at least 80% of its samples have a Python frame
    /// of its own copy; no frame of another copy or of another interpreter's
    /// standard library; its own frames are known to its own interpreter
    /// (checkFramesAreKnown); each task's principal function and the worker's
    /// function are innermost in at least one sample, when the part of the
    /// run that was recorded should give them 20 or more.
    func testAllInterpretersAtOnceAreEachAttributedToTheirOwnProcess() throws {
        try TestSupport.requireRoot()
        let (pythons, directory) = try PythonInterpreters.requireEveryBuild()
        let output = directory.appendingPathComponent("all.folded")
        let seconds = 4.0

        var scripts: [URL] = []
        for python in pythons {
            let suffix = python.label.replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_")
            let copy = directory.appendingPathComponent("workload_\(suffix).py")
            try FileManager.default.copyItem(at: PythonInterpreters.script("workload.py"), to: copy)
            scripts.append(copy)
        }
        let go = directory.appendingPathComponent("go")
        let runs = try zip(pythons, scripts).map { python, script in
            try python.start(script, ["\(seconds)", directory.appendingPathComponent("report-\(python.label).json").path, go.path],
                             in: directory)
        }
        let recording = try RunningRecording(arguments: ["record", "--full-filenames", "--interpreter-frames", "-f", "folded", "-o", output.path,
                                                         "-d", "\(seconds + 1.5)", "-F", "\(frequency)"])
        let sampling = try release(runs, with: go, when: recording)
        let reports: [WorkloadReport?] = runs.map { run in
            try? run.finish(WorkloadReport.self, report: directory.appendingPathComponent("report-\(run.interpreter.label).json"))
        }
        XCTAssertEqual(recording.wait(), 0, recording.stderr)
        let profile = try readProfile(output, recording)

        let stdlibs = reports.compactMap { $0?.stdlibDir }
        for (python, report) in zip(pythons, reports) {
            guard let report else { continue }
            let process = FoldedProcess(profile, pid: report.pid)
            guard process.total > 0 else {
                XCTFail("\(python): no samples of pid \(report.pid) at all (\(format(report.processCpuSeconds)) s of CPU)")
                continue
            }
            let own = process.filter { $0.python.contains { $0.file == report.script } }
            XCTAssertGreaterThanOrEqual(Double(own.total), 0.8 * Double(process.total), """
                \(python): only \(own.total) of the \(process.total) samples of pid \(report.pid) have a Python frame of \(report.script); \
                its innermost Python frames:
                \(process.histogram(top: 8) { $0.innermost?.description ?? "(no Python frame)" })
                """)
            let foreign = process.filter { sample in
                sample.python.contains { frame in
                    (frame.file != report.script && scripts.contains { $0.path == frame.file })
                        || stdlibs.contains { $0 != report.stdlibDir && frame.file.hasPrefix($0 + "/") }
                }
            }
            XCTAssertEqual(foreign.total, 0,
                           "\(python): frames of other processes under pid \(report.pid):\n\(foreign.histogram(top: 5) { $0.pythonDescription })")
            checkFramesAreKnown(report, process, python)
            let recorded = 1 - cpuSeconds(report.processCpuTimeline, at: sampling) / report.processCpuSeconds
            let busy = report.tasks.map { ($0.principal, $0.cpuSeconds) } + [(report.worker.function, report.worker.cpuSeconds)]
            for (function, cpu) in busy where Double(frequency) * cpu * recorded >= 20 {
                let count = process.filter { $0.innermost?.name == function && $0.innermost?.file == report.script }.total
                XCTAssertGreaterThan(count, 0, """
                    \(python): \(function) is never the innermost Python frame of pid \(report.pid) \
                    (\(format(cpu)) s of CPU, \(percent(recorded)) of the process's CPU time recorded)
                    """)
            }
        }
    }

    // MARK: A thread inside zlib

    /// (c) zlib_threads.py under every interpreter at once, with --threads,
    /// started and released like (b): after a 0.5 s warm-up, one thread
    /// spends its time in
    /// zlib.compress with the GIL released while the main thread holds the
    /// GIL in burn_python. The compressor's samples number at least `samplingFloor` of
    /// rate x its CPU time after sampling began (from its CPU timeline); at
    /// least 90% of them carry exactly the Python
    /// stack the interpreter reported for it (down to compress_loop) and none
    /// has burn_python; burn_python is the innermost Python frame of most of
    /// the main thread's samples, and compress_loop never appears under the
    /// main thread.
    func testThreadInsideZlibIsAttributedToItsOwnPythonCaller() throws {
        try TestSupport.requireRoot()
        try checkThreadInsideZlib(try PythonInterpreters.requireAll(), in: try TestSupport.temporaryDirectory())
    }

    /// (c) for Debian unstable's builds (3.13-3.15, debug, JIT), in a
    /// recording of their own: seventeen processes with two busy threads
    /// each on two CPUs would measure the machine, not the attribution.
    func testThreadInsideZlibIsAttributedToItsOwnPythonCallerOnDebianUnstable() throws {
        try TestSupport.requireRoot()
        let (every, directory) = try PythonInterpreters.requireEveryBuild()
        let debian = every.filter { $0.root != nil }
        guard !debian.isEmpty else { throw XCTSkip("\(PythonInterpreters.debianRoot) is missing (make test builds it)") }
        try checkThreadInsideZlib(debian, in: directory)
    }

    private func checkThreadInsideZlib(_ pythons: [PythonInterpreter], in directory: URL) throws {
        let output = directory.appendingPathComponent("zlib.folded")
        // zlib_threads.py imports workload.py from its own directory.
        try FileManager.default.copyItem(at: PythonInterpreters.script("workload.py"),
                                         to: directory.appendingPathComponent("workload.py"))
        let seconds = 3.5
        let go = directory.appendingPathComponent("go")
        let runs = try pythons.map { python in
            try python.start(PythonInterpreters.script("zlib_threads.py"),
                             ["\(seconds)", directory.appendingPathComponent("zlib-\(python.label).json").path, go.path],
                             in: directory)
        }
        let recording = try RunningRecording(arguments: ["record", "--full-filenames", "--interpreter-frames", "-f", "folded", "-o", output.path,
                                                         "-d", "\(seconds + 1.5)", "-F", "\(frequency)", "--threads"])
        let sampling = try release(runs, with: go, when: recording)
        let reports: [ZlibThreadsReport?] = runs.map { run in
            try? run.finish(ZlibThreadsReport.self, report: directory.appendingPathComponent("zlib-\(run.interpreter.label).json"))
        }
        XCTAssertEqual(recording.wait(), 0, recording.stderr)
        let profile = try readProfile(output, recording)

        for (python, report) in zip(pythons, reports) {
            guard let report else { continue }
            let process = FoldedProcess(profile, pid: report.pid)
            guard process.total > 0 else {
                XCTFail("\(python): no samples of pid \(report.pid) at all (\(format(report.processCpuSeconds)) s of CPU)")
                continue
            }
            let compressor = process.thread(report.threads.compressor)
            let main = process.thread(report.threads.main)
            let loop = report.compressor.function, burn = report.main.function
            guard report.compressor.stack.last?.name == loop, report.compressor.cpuTimeline.count >= 2 else {
                XCTFail("\(python): zlib_threads.py's ground truth is broken: \(report.compressor.cpuTimeline.count - 1) calls, "
                    + "compressor seen at \(FoldedPythonFrame.describe(report.compressor.stack))")
                continue
            }
            let cpu = report.compressor.cpuSeconds - cpuSeconds(report.compressor.cpuTimeline, at: sampling)
            let expected = Double(frequency) * cpu
            XCTAssertGreaterThanOrEqual(Double(compressor.total), Self.samplingFloor * expected, """
                \(python): \(compressor.total) samples under the compressor thread \(report.threads.compressor); \
                expected about \(Int(expected)) (\(frequency) Hz x \(format(cpu)) s of CPU after sampling began); pyrograph said:
                \(recording.stderr)
                """)
            let observed = report.observedLines(loop, file: report.script)
            let matching = compressor.filter { Self.sameStack($0.python, report.compressor.stack, innermostLines: observed) }
            XCTAssertGreaterThanOrEqual(Double(matching.total), 0.9 * Double(compressor.total), """
                \(python): only \(matching.total) of \(compressor.total) samples of the compressor thread have its Python stack
                  expected: \(FoldedPythonFrame.describe(report.compressor.stack))
                  most common in the profile:
                \(compressor.histogram(top: 4) { $0.pythonDescription })
                pyrograph said:
                \(recording.stderr)
                """)
            let stolen = compressor.filter { $0.python.contains { $0.name == burn && $0.file == report.script } }
            XCTAssertEqual(stolen.total, 0, "\(python): the GIL holder's \(burn) shows up under the compressor thread in \(stolen.total) samples")
            let burning = main.filter { $0.innermost?.name == burn && $0.innermost?.file == report.script }
            XCTAssertGreaterThan(Double(burning.total), 0.5 * Double(main.total), """
                \(python): \(burn) is innermost in only \(burning.total) of \(main.total) main-thread samples:
                \(main.histogram(top: 6) { $0.innermost?.description ?? "(no Python frame)" })
                """)
            let leaked = main.filter { $0.python.contains { $0.name == loop && $0.file == report.script } }
            XCTAssertEqual(leaked.total, 0, "\(python): \(loop) shows up under the main thread in \(leaked.total) samples")
        }
    }

    // MARK: A process that starts while recording

    /// (d) Every interpreter starts a workload 0.5 s after sampling began.
    /// Python detection may take up to a second: the samples without Python
    /// frames fit in the process's first second, those with Python frames
    /// number at least half of rate x the CPU time it used after that second
    /// (from the workload's own CPU timeline), and they are more than half of
    /// the process's samples. One interpreter at a time, each in its own
    /// recording: ten busy interpreters starting at once on two CPUs measure
    /// the machine more than the discovery.
    func testProcessStartedDuringRecordingGetsPythonFramesWithinASecond() throws {
        try TestSupport.requireRoot()
        for python in try PythonInterpreters.requireEveryBuild().interpreters {
            try checkProcessStartedDuringRecording(python)
        }
    }

    private func checkProcessStartedDuringRecording(_ python: PythonInterpreter) throws {
        let directory = try python.temporaryDirectory()
        let output = directory.appendingPathComponent("late.folded")
        let seconds = 2.5, duration = seconds + 2.0
        let recording = try RunningRecording(arguments: ["record", "--full-filenames", "--interpreter-frames", "-f", "folded", "-o", output.path,
                                                         "-d", "\(duration)", "-F", "\(frequency)"])
        try recording.waitUntilSampling()
        let end = Date().timeIntervalSince1970 + duration
        usleep(500_000)
        let runs = [try python.start(PythonInterpreters.script("workload.py"),
                                     ["\(seconds)", directory.appendingPathComponent("late-\(python.label).json").path],
                                     in: directory)]
        let reports: [WorkloadReport?] = runs.map { run in
            try? run.finish(WorkloadReport.self, report: directory.appendingPathComponent("late-\(run.interpreter.label).json"))
        }
        XCTAssertEqual(recording.wait(), 0, recording.stderr)
        let profile = try readProfile(output, recording)

        for (run, report) in zip(runs, reports) {
            guard let report else { continue }
            let python = run.interpreter
            let process = FoldedProcess(profile, pid: report.pid)
            guard process.total > 0 else {
                XCTFail("\(python): no samples of pid \(report.pid) at all (\(format(report.processCpuSeconds)) s of CPU)")
                continue
            }
            let withPython = process.filter { !$0.python.isEmpty }
            // Samples without Python frames must fit in the process's first
            // second (start-up, then discovery); counted against its own
            // samples, so the VM's sampling efficiency under contention
            // does not enter.
            let firstSecond = cpuSeconds(report.processCpuTimeline, at: run.startedAt.timeIntervalSince1970 + 1)
            let withoutPython = process.total - withPython.total
            let allowed = 1.2 * Double(frequency) * firstSecond + 10
            XCTAssertLessThanOrEqual(Double(withoutPython), allowed, """
                \(python): \(withoutPython) of \(process.total) samples of pid \(report.pid) lack Python frames; at most \
                \(Int(allowed)) fit in its first second (\(format(firstSecond)) s of CPU then); pyrograph said:
                \(recording.stderr)
                """)
            // Until it is found, a new process is filtered out in the kernel;
            // after its first second it must be sampled.
            let sampled = Double(frequency) * (cpuSeconds(report.processCpuTimeline, at: end) - firstSecond)
            XCTAssertGreaterThanOrEqual(Double(withPython.total), 0.5 * sampled, """
                \(python): \(withPython.total) samples of pid \(report.pid) with Python frames, for \(Int(sampled)) \
                expected from its CPU time after its first second; pyrograph said:
                \(recording.stderr)
                """)
            XCTAssertGreaterThan(Double(withPython.total), 0.5 * Double(process.total), """
                \(python): only \(withPython.total) of \(process.total) samples of pid \(report.pid) have Python frames
                """)
        }
    }

    // MARK: Helpers

    /// Frames of the report's script whose name, file and line the
    /// interpreter does not report, and frames whose file has the script's
    /// name but is not its co_filename; with sample counts.
    private func unknownFrames(_ report: PythonSelfReport, _ process: FoldedProcess) -> [String: Int] {
        let name = (report.script as NSString).lastPathComponent
        var unknown: [String: Int] = [:]
        for sample in process.samples {
            for frame in Set(sample.python) {
                if frame.file == report.script ? !report.knows(frame) : (frame.file as NSString).lastPathComponent == name {
                    unknown["\(frame.name) (\(frame.file):\(frame.line))", default: 0] += sample.count
                }
            }
        }
        return unknown
    }

    /// The same Python frames root first; the innermost may be on any of
    /// `innermostLines`.
    static func sameStack(_ profile: [FoldedPythonFrame], _ expected: [FoldedPythonFrame], innermostLines: Set<Int>) -> Bool {
        guard profile.count == expected.count, let last = profile.last, let expectedLast = expected.last else { return false }
        return profile.dropLast().elementsEqual(expected.dropLast())
            && last.name == expectedLast.name && last.file == expectedLast.file
            && (innermostLines.contains(last.line) || last.line == expectedLast.line)
    }

    /// Waits until `recording` samples, then creates the start file `go`
    /// that `runs` wait for; stops them if it never samples. Returns when
    /// sampling had begun (seconds since 1970, a little late).
    @discardableResult
    private func release(_ runs: [PythonRun], with go: URL, when recording: RunningRecording) throws -> Double {
        do {
            try recording.waitUntilSampling()
        } catch {
            runs.forEach { $0.process.terminate() }
            throw error
        }
        let sampling = Date().timeIntervalSince1970
        try Data().write(to: go)
        return sampling
    }

    private func readProfile(_ output: URL, _ recording: RunningRecording) throws -> FoldedProfile {
        do {
            return FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
        } catch {
            XCTFail("cannot read the profile \(output.path): \(error); pyrograph said:\n\(recording.stderr)")
            throw error
        }
    }

    private func format(_ seconds: Double) -> String { String(format: "%.2f", seconds) }
    private func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }
}

// MARK: - Python frames in folded stacks

/// A Python frame: `NAME (FILE:LINE)`.
struct FoldedPythonFrame: Hashable, Decodable, CustomStringConvertible {
    let name: String
    let file: String
    let line: Int

    init(name: String, file: String, line: Int) {
        self.name = name
        self.file = file
        self.line = line
    }

    /// `NAME (FILE:LINE)` with FILE ending in `.py`; nil for any other frame.
    init?(folded frame: String) {
        guard frame.hasSuffix(")"), let open = frame.range(of: " (", options: .backwards) else { return nil }
        let inside = frame[open.upperBound..<frame.index(before: frame.endIndex)]
        guard let colon = inside.lastIndex(of: ":"), let line = Int(inside[inside.index(after: colon)...]) else { return nil }
        let file = String(inside[..<colon])
        guard file.hasSuffix(".py") else { return nil }
        self.init(name: String(frame[..<open.lowerBound]), file: file, line: line)
    }

    var description: String { "\(name) (\((file as NSString).lastPathComponent):\(line))" }

    /// Root first, runs of one frame collapsed: `recurse (workload.py:164) x99`.
    static func describe(_ frames: [FoldedPythonFrame]) -> String {
        describe(frames.map(\.description))
    }

    static func describe(_ frames: [String]) -> String {
        guard !frames.isEmpty else { return "(no Python frame)" }
        var parts: [String] = []
        var index = 0
        while index < frames.count {
            var end = index
            while end + 1 < frames.count && frames[end + 1] == frames[index] { end += 1 }
            parts.append(end > index ? "\(frames[index]) x\(end - index + 1)" : frames[index])
            index = end + 1
        }
        return parts.joined(separator: ";")
    }
}

/// The samples of one process (root frame `COMM (PID)`), with their Python frames.
struct FoldedProcess {
    struct Sample {
        let frames: [String]
        let python: [FoldedPythonFrame]
        let count: Int
        var innermost: FoldedPythonFrame? { python.last }

        /// The Python frames and the annotations (`[...]`, such as an
        /// unreadable Python frame), root first, for failure messages.
        var pythonDescription: String {
            FoldedPythonFrame.describe(frames.dropFirst().compactMap { frame in
                FoldedPythonFrame(folded: frame)?.description ?? (frame.hasPrefix("[") && frame.hasSuffix("]") ? frame : nil)
            })
        }
    }

    let samples: [Sample]

    init(_ profile: FoldedProfile, pid: Int32) {
        samples = profile.stacks.filter { $0.frames.first?.hasSuffix(" (\(pid))") == true }.map {
            Sample(frames: $0.frames, python: $0.frames.compactMap(FoldedPythonFrame.init(folded:)), count: $0.count)
        }
    }

    init(samples: [Sample]) { self.samples = samples }

    var total: Int { samples.reduce(0) { $0 + $1.count } }

    func filter(_ isIncluded: (Sample) -> Bool) -> FoldedProcess { FoldedProcess(samples: samples.filter(isIncluded)) }

    /// With --threads: the samples under `THREAD (TID)`.
    func thread(_ tid: Int32) -> FoldedProcess {
        filter { $0.frames.count > 1 && $0.frames[1].hasSuffix(" (\(tid))") }
    }

    /// The `top` most common keys with their sample counts, one a line.
    func histogram(top: Int, _ key: (Sample) -> String) -> String {
        var counts: [String: Int] = [:]
        for sample in samples { counts[key(sample), default: 0] += sample.count }
        guard !counts.isEmpty else { return "    (no samples)" }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(top)
            .map { "    \($0.value)  \($0.key)" }.joined(separator: "\n")
    }
}

// MARK: - What the fixtures report about themselves

/// A code object as the interpreter reported it.
struct ReportedCodeObject: Decodable {
    let name: String
    let file: String
    let firstLine: Int
    /// Every line of dis.findlinestarts: the lines an instruction can be on.
    let lineTable: [Int]
    /// [line, snapshots] seen through sys._current_frames().
    let observedLines: [[Int]]
}

protocol PythonSelfReport {
    var script: String { get }
    var functions: [ReportedCodeObject] { get }
}

extension PythonSelfReport {
    /// Known name and file, on a line of the line table or on co_firstlineno
    /// (of any code object of that name: co_name is not unique before 3.11).
    /// Before 3.11 co_firstlineno is not in the table, but a frame that has
    /// not run its first instruction yet (f_lasti -1) is on it, as its own
    /// f_lineno says.
    func knows(_ frame: FoldedPythonFrame) -> Bool {
        functions.contains {
            $0.name == frame.name && $0.file == frame.file
                && ($0.lineTable.contains(frame.line) || $0.firstLine == frame.line)
        }
    }

    func observedLines(_ name: String, file: String) -> Set<Int> {
        Set(functions.filter { $0.name == name && $0.file == file }.flatMap { $0.observedLines.compactMap(\.first) })
    }
}

/// workload.py's REPORT.json.
struct WorkloadReport: Decodable, PythonSelfReport {
    struct Threads: Decodable {
        let main: Int32
        let worker: Int32
        let sampler: Int32
    }

    struct Task: Decodable {
        let key: String
        let principal: String
        let functions: [String]
        let intendedShare: Double
        let measuredShare: Double
        let slices: Int
        let cpuSeconds: Double
        let wallSeconds: Double
        let observedInnermost: Int
    }

    struct Worker: Decodable {
        let function: String
        let cpuSeconds: Double
        let shareOfProcessCpu: Double
    }

    struct Snapshot: Decodable {
        let thread: String
        let innermost: String
        let count: Int
        let stack: [FoldedPythonFrame]
    }

    let pid: Int32
    let version: String
    let jit: Bool
    let script: String
    let stdlibDir: String
    let recursionDepth: Int
    let threads: Threads
    let tasks: [Task]
    let tasksCpuSeconds: Double
    let worker: Worker
    let processCpuSeconds: Double
    let processCpuTimeline: [[Double]]
    let functions: [ReportedCodeObject]
    let snapshots: [Snapshot]

}

/// CPU seconds at wall time `time` (seconds since 1970) in a timeline of
/// [wall time, CPU seconds] points, interpolated; before the first point, the
/// first; after the last, the last.
private func cpuSeconds(_ timeline: [[Double]], at time: Double) -> Double {
    let points = timeline.filter { $0.count == 2 }
    guard let first = points.first, let last = points.last else { return 0 }
    if time <= first[0] { return first[1] }
    if time >= last[0] { return last[1] }
    let after = points.firstIndex { $0[0] >= time }!
    let (a, b) = (points[after - 1], points[after])
    return a[1] + (b[1] - a[1]) * (time - a[0]) / max(b[0] - a[0], 1e-9)
}

/// zlib_threads.py's REPORT.json.
struct ZlibThreadsReport: Decodable, PythonSelfReport {
    struct Threads: Decodable {
        let main: Int32
        let compressor: Int32
    }

    struct Main: Decodable {
        let function: String
        let cpuSeconds: Double
    }

    struct Compressor: Decodable {
        let function: String
        let cpuSeconds: Double
        /// [seconds since 1970, the thread's CPU seconds], after each call.
        let cpuTimeline: [[Double]]
        let stack: [FoldedPythonFrame]
    }

    let pid: Int32
    let version: String
    let script: String
    let threads: Threads
    let main: Main
    let compressor: Compressor
    let processCpuSeconds: Double
    let functions: [ReportedCodeObject]
}
