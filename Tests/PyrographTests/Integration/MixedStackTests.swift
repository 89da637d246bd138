import Foundation
import XCTest

/// One truthful stack per sample: Python frames where the interpreter ran
/// them, the native frames of C code built without frame pointers, and the
/// kernel's, on every interpreter of this machine.
final class MixedStackTests: XCTestCase {
    static let modes = ["ctypes", "zlib", "hashlib", "stat"]

    /// Each interpreter runs the four workloads at once, recorded together.
    func testMixedStacksOnEveryInterpreter() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let library = try compileChainLibrary(into: directory)
        var report: [String] = []
        for interpreter in PythonInterpreters.all {
            let processes = try Self.modes.map { mode in
                // Runs until terminated: a slow start on a loaded machine must
                // not end the workload before the recording begins.
                try Process.run(URL(fileURLWithPath: interpreter.path),
                                arguments: [mixedScript, mode, "600", library.path])
            }
            defer { processes.forEach { if $0.isRunning { $0.terminate() } } }
            usleep(600_000)
            let output = directory.appendingPathComponent("mixed-\(interpreter.label).folded")
            // 499 Hz: enough samples per workload for a 95% bound to mean something.
            let arguments = ["record", "-F", "499", "-d", "2.5", "-o", output.path]
                + processes.flatMap { ["-p", String($0.processIdentifier)] }
            let result = try TestSupport.run(try TestSupport.pyrographBinary(), arguments)
            XCTAssertEqual(result.status, 0, result.stderr)
            processes.forEach { $0.terminate(); $0.waitUntilExit() }
            let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
            for (mode, process) in zip(Self.modes, processes) {
                let stacks = profile.stacks.filter { $0.frames.first?.hasSuffix("(\(process.processIdentifier))") == true }
                report.append(check(mode, stacks: stacks, interpreter: interpreter.label))
            }
        }
        print(report.joined(separator: "\n"))
    }

    /// An extension loaded with dlopen after the recording began unwinds
    /// too: the kernel's mapping event has the process's tables re-read at
    /// once, not after a sample has first missed them.
    func testLibraryLoadedAfterRecordingBeganUnwinds() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let library = try compileChainLibrary(into: directory)
        let interpreter = try XCTUnwrap(PythonInterpreters.all.first { $0.label.hasPrefix("3.12") })
        let python = try LineDrivenProcess(interpreter.path, [mixedScript, "dlopen", "600", library.path])
        defer { python.stop() }
        try python.waitFor("ready")
        let output = directory.appendingPathComponent("dlopen.folded")
        let recording = try RunningRecording(arguments: ["record", "-d", "3", "-p", String(python.pid), "-o", output.path])
        try recording.waitUntilSampling()
        usleep(300_000)
        python.send("load")
        XCTAssertEqual(recording.wait(), 0, recording.stderr)

        let reReads = TestSupport.mapsReReadForMappingEvents(recording.stderr)
        XCTAssertGreaterThanOrEqual(reReads?.reReads ?? 0, 1, "no re-read for a mapping event:\n\(recording.stderr)")
        let stacks = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8)).stacks
        let inInner = stacks.filter { $0.frames.map(FoldedProfile.symbol).contains("inner") }
        let total = inInner.reduce(0) { $0 + $1.count }
        XCTAssertGreaterThan(total, 100, "too few samples in inner: \(recording.stderr)")
        let isComplete = { (stack: (frames: [String], count: Int)) in
            Self.hasChain(stack.frames) && stack.frames.dropFirst().first?.hasPrefix("_start") == true
        }
        let complete = inInner.filter(isComplete).reduce(0) { $0 + $1.count }
        // A sample can still land in the library between the mmap and the
        // re-read it causes.
        XCTAssertGreaterThanOrEqual(Double(complete), 0.95 * Double(total),
                                    "incomplete:\n" + Self.dump(inInner.filter { !isComplete($0) }) + "\n\(recording.stderr)")
        let summary = recording.stderr.split(separator: "\n").filter { $0.contains("maps re-read") || $0.contains("cut short") }
        print("dlopen: \(complete)/\(total) samples in inner unwound to _start; " + summary.joined(separator: ";"))
    }

    private func check(_ mode: String, stacks: [(frames: [String], count: Int)], interpreter: String) -> String {
        let callerName = ["ctypes": "caller", "zlib": "compress_caller", "hashlib": "hash_caller", "stat": "stat_caller"][mode]!
        let inCaller = stacks.filter { $0.frames.contains { $0.hasPrefix(callerName + " (") } }
        let callerSamples = inCaller.reduce(0) { $0 + $1.count }
        let total = stacks.reduce(0) { $0 + $1.count }
        XCTAssertGreaterThan(callerSamples, 100, "\(interpreter) \(mode): too few samples in \(callerName)")

        let matching: Int
        switch mode {
        case "ctypes":
            matching = inCaller.filter { stack in
                guard let caller = stack.frames.firstIndex(where: { $0.hasPrefix("caller (") }) else { return false }
                let below = stack.frames[caller...]
                // 2.7 builds libffi into _ctypes; unnamed frames read `_ctypes...so+0x...`.
                return below.contains { $0.contains("_ctypes") }
                    && below.contains { $0.contains("ffi_call") || $0.contains("libffi") }
                    && Self.hasChain(stack.frames)
            }.reduce(0) { $0 + $1.count }
        case "zlib":
            matching = inCaller.filter { $0.frames.contains { $0.hasPrefix("deflate") && $0.contains("[libz") } }
                .reduce(0) { $0 + $1.count }
        case "hashlib":
            // OpenSSL through _hashlib, or CPython's own _sha256 (2.7) or _sha2.
            matching = inCaller.filter { $0.frames.contains { frame in
                ["libcrypto", "_hashlib", "_sha256", "_sha2"].contains { frame.contains($0) } } }
                .reduce(0) { $0 + $1.count }
        default:
            // A syscall's kernel frames sit beneath native frames (the libc
            // wrapper), never directly under a Python frame. (An interrupt
            // can land anywhere, so only syscall entries are checked.)
            let syscalls = inCaller.filter { stack in
                stack.frames.first { $0.hasSuffix("_[k]") }?.hasPrefix("entry_SYSCALL") == true
            }
            let underPython = syscalls.filter { stack in
                let firstKernel = stack.frames.firstIndex { $0.hasSuffix("_[k]") }!
                return stack.frames[firstKernel - 1].contains(".py:")
            }
            XCTAssertTrue(underPython.isEmpty, "\(interpreter) stat: a syscall right under a Python frame:\n\(Self.dump(underPython))")
            matching = syscalls.reduce(0) { $0 + $1.count }
        }
        let share = Double(matching) / Double(max(callerSamples, 1))
        // os.stat spends most of its time in the interpreter, not the kernel.
        let required = mode == "stat" ? 0.1 : 0.95
        XCTAssertGreaterThanOrEqual(share, required, "\(interpreter) \(mode): \(matching)/\(callerSamples)\n\(Self.dump(inCaller))")

        let outermost = stacks.filter { $0.frames.dropFirst().first.map(Self.isOutermost) ?? false }.reduce(0) { $0 + $1.count }
        let outermostShare = Double(outermost) / Double(max(total, 1))
        XCTAssertGreaterThanOrEqual(outermostShare, 0.99, "\(interpreter) \(mode): reached _start in \(outermost)/\(total)\n\(Self.dump(stacks))")
        return "\(interpreter) \(mode): \(matching)/\(callerSamples) match, outermost frame reached in \(outermost)/\(total)"
    }

    static func isOutermost(_ frame: String) -> Bool {
        frame.hasPrefix("_start ") || frame.hasPrefix("clone") || frame.hasPrefix("__clone")
    }

    /// outer, middle, inner in that order as the innermost user frames.
    static func hasChain(_ frames: [String]) -> Bool {
        let user = frames.filter { !$0.hasSuffix("_[k]") }.map(FoldedProfile.symbol)
        return Array(user.suffix(3)) == ["outer", "middle", "inner"]
    }

    static func dump(_ stacks: [(frames: [String], count: Int)]) -> String {
        stacks.sorted { $0.count > $1.count }.prefix(8)
            .map { $0.frames.joined(separator: ";") + " \($0.count)" }.joined(separator: "\n")
    }

    private var mixedScript: String { TestSupport.fixtures.appendingPathComponent("python/mixed.py").path }

    private func compileChainLibrary(into directory: URL) throws -> URL {
        let output = directory.appendingPathComponent("libchain.so")
        let result = try TestSupport.run("/usr/bin/gcc", ["-O2", "-fomit-frame-pointer", "-shared", "-fPIC", "-o", output.path,
                                                          TestSupport.fixtures.appendingPathComponent("native/chain.c").path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return output
    }
}
