import Foundation
import XCTest

/// Interpreters in containers: a process in its own pid namespace (and, for
/// Debian's, its own mount namespace and root, so its files exist only
/// there) is profiled like any other. Frames name the host's pid; `ps` shows
/// the pid the process sees too.
final class NamespaceTests: XCTestCase {
    /// Debian unstable's python3.14, whose files live only in its root:
    /// `unshare --pid --fork --mount --mount-proc --root=ROOT`.
    func testAnInterpreterInItsOwnPidMountNamespaceAndRoot() throws {
        let python = try PythonInterpreters.requireDebian("3.14-debian-unstable")
        try checkNamespaced(python, unshare: ["--pid", "--fork", "--mount", "--mount-proc", "--root=\(python.root!)"])
    }

    /// A host interpreter (libpython shared) in a new pid namespace only.
    func testAnInterpreterInItsOwnPidNamespace() throws {
        let python = try PythonInterpreters.require("3.12")
        try checkNamespaced(python, unshare: ["--pid", "--fork", "--mount-proc"])
    }

    private func checkNamespaced(_ python: PythonInterpreter, unshare: [String]) throws {
        try TestSupport.requireRoot()
        let directory = try python.temporaryDirectory()
        let script = directory.appendingPathComponent("namespaced_spin.py")
        let pidFile = directory.appendingPathComponent("pid")
        try """
            import os, sys, time
            def spin_in_namespace(seconds):
                end = time.time() + seconds
                n = 0
                while time.time() < end:
                    n += 1
                return n
            with open(sys.argv[1], "w") as handle:
                handle.write(str(os.getpid()))
            spin_in_namespace(float(sys.argv[2]))

            """.write(to: script, atomically: true, encoding: .utf8)
        let container = Process()
        container.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        container.arguments = unshare + [python.path, "-B", python.innerPath(script.path), python.innerPath(pidFile.path), "60"]
        container.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PYTHON") }
        try container.run()
        defer { container.terminate(); container.waitUntilExit() }

        let (hostPID, innerPID) = try waitForTheInterpreter(of: container, pidFile: pidFile)
        defer { kill(hostPID, SIGKILL) }
        XCTAssertNotEqual(hostPID, innerPID, "the interpreter should have its own pid inside its namespace")

        let ps = try TestSupport.run(try TestSupport.pyrographBinary(), ["ps"])
        XCTAssertEqual(ps.status, 0, ps.stderr)
        let row = ps.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
            .first { $0.first.map(String.init) == String(hostPID) }
        XCTAssertEqual(row.map { Array($0.prefix(2)).map(String.init) }, [String(hostPID), String(innerPID)],
                       "ps should list the host pid and the namespace pid:\n\(ps.stdout)")
        XCTAssertEqual(row?.contains("yes"), true, "ps should say it is supported:\n\(ps.stdout)")

        let output = directory.appendingPathComponent("profile.folded")
        let recording = try RunningRecording(arguments: ["record", "-f", "folded", "--full-filenames", "-o", output.path, "-d", "2"])
        XCTAssertEqual(recording.wait(), 0, recording.stderr)
        let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
        let own = profile.stacks.filter { $0.frames.first?.hasSuffix(" (\(hostPID))") == true }
        let total = own.reduce(0) { $0 + $1.count }
        let inSpin = own.filter { stack in
            stack.frames.contains { $0.hasPrefix("spin_in_namespace (\(python.innerPath(script.path)):") }
        }.reduce(0) { $0 + $1.count }
        XCTAssertGreaterThan(total, 20, "samples under the host pid \(hostPID); pyrograph said:\n\(recording.stderr)")
        XCTAssertGreaterThanOrEqual(Double(inSpin), 0.9 * Double(total), """
            \(python): \(inSpin) of \(total) samples name spin_in_namespace with the file as the process sees it; \
            pyrograph said:
            \(recording.stderr)
            """)
    }

    /// The interpreter is unshare's child (with --fork); its pid as it sees
    /// it is what it wrote to `pidFile`.
    private func waitForTheInterpreter(of container: Process, pidFile: URL) throws -> (host: Int32, inner: Int32) {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let children = (try? String(contentsOfFile: "/proc/\(container.processIdentifier)/task/\(container.processIdentifier)/children",
                                        encoding: .utf8)) ?? ""
            if let host = children.split(separator: " ").compactMap({ Int32($0) }).first,
               let text = try? String(contentsOf: pidFile, encoding: .utf8), let inner = Int32(text) {
                return (host, inner)
            }
            XCTAssertTrue(container.isRunning, "unshare exited with status \(container.terminationStatus)")
            if !container.isRunning { break }
            usleep(20_000)
        }
        XCTFail("the namespaced interpreter did not start")
        throw CancellationError()
    }
}
