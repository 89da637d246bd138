import Foundation
import XCTest

/// A CPython build the Python integration tests run their fixtures under.
struct PythonInterpreter: CustomStringConvertible {
    /// "2.7" to "3.13" for the pyenv builds, "3.11-debian" for /usr/bin/python3.11.
    let label: String
    let path: String
    /// What sys.version must start with.
    let versionPrefix: String
    /// The root it runs in with chroot (Tests/Interpreters/debian-unstable.sh);
    /// `path` is then inside it. nil for the host's own interpreters.
    var root: String? = nil
    /// Variables set for it on top of the caller's (minus their PYTHON*
    /// ones), e.g. PYTHON_JIT=1.
    var environment: [String: String] = [:]

    var description: String {
        "Python \(label) (\(root ?? "")\(path)\(environment.isEmpty ? "" : ", " + environment.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")))"
    }

    /// The words that go before `path` in a command pyrograph starts
    /// (`record -- ...`): env for its variables, chroot for its root.
    var launcher: [String] {
        let variables = environment.map { "\($0.key)=\($0.value)" }.sorted()
        return (variables.isEmpty ? [] : ["/usr/bin/env"] + variables) + (root.map { ["/usr/sbin/chroot", $0] } ?? [])
    }

    /// Where the file `path` names lies on the host.
    var hostPath: String { (root ?? "") + path }

    /// A fresh directory the interpreter can reach: under its root for a
    /// chroot interpreter.
    func temporaryDirectory() throws -> URL {
        guard let root else { return try TestSupport.temporaryDirectory() }
        let url = URL(fileURLWithPath: root).appendingPathComponent("tmp/pyrograph-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A host path as the interpreter sees it.
    func innerPath(_ hostPath: String) -> String {
        guard let root, hostPath.hasPrefix(root + "/") else { return hostPath }
        return String(hostPath.dropFirst(root.count))
    }

    /// Starts `script` with `arguments`, without writing bytecode next to it
    /// (-B) and without the caller's PYTHON* variables; its stdout and stderr
    /// go to a log file in `directory`.
    func start(_ script: URL, _ arguments: [String], in directory: URL) throws -> PythonRun {
        let log = directory.appendingPathComponent("\(script.deletingPathExtension().lastPathComponent)-\(label)-\(UUID().uuidString.prefix(8)).log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            XCTFail("cannot create \(log.path)")
            throw CancellationError()
        }
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        if let root {
            // The script is copied next to the run's files, inside the root.
            let copy = directory.appendingPathComponent(script.lastPathComponent)
            if !FileManager.default.fileExists(atPath: copy.path) {
                try FileManager.default.copyItem(at: script, to: copy)
            }
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/chroot")
            process.arguments = [root, path, "-B", innerPath(copy.path)] + arguments.map(innerPath)
        } else {
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = ["-B", script.path] + arguments
        }
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PYTHON") }
            .merging(environment) { $1 }
        process.standardOutput = handle
        process.standardError = handle
        let startedAt = Date()
        try process.run()
        try handle.close()
        return PythonRun(interpreter: self, script: script, process: process, log: log, startedAt: startedAt)
    }
}

/// The interpreters every Python test runs: nine pyenv builds (libpython as
/// a shared library) and Debian's statically linked python3.11. A missing one
/// is a failure, not a skip: the test machine is expected to have them all.
enum PythonInterpreters {
    static let pyenvVersions = ["2.7.18", "3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"]

    static let all: [PythonInterpreter] = pyenvVersions.map { version in
        PythonInterpreter(label: version.split(separator: ".").prefix(2).joined(separator: "."),
                          path: "/root/.pyenv/versions/\(version)/bin/python", versionPrefix: version + " ")
    } + [PythonInterpreter(label: "3.11-debian", path: "/usr/bin/python3.11", versionPrefix: "3.11.")]

    /// Debian unstable's CPythons, run in the root that
    /// Tests/Interpreters/debian-unstable.sh builds (`make test` builds it).
    static let debianRoot = ProcessInfo.processInfo.environment["PYROGRAPH_INTERPRETERS"]
        ?? "/var/cache/pyrograph/debian-unstable"
    static let debian: [PythonInterpreter] = [
        ("3.13-debian-unstable", "/usr/bin/python3.13", "3.13."),
        ("3.14-debian-unstable", "/usr/bin/python3.14", "3.14."),
        ("3.15-debian-unstable", "/usr/bin/python3.15", "3.15."),
        ("3.14-debian-dbg", "/usr/bin/python3.14-dbg", "3.14."),
        ("3.15-debian-dbg", "/usr/bin/python3.15-dbg", "3.15."),
    ].map { PythonInterpreter(label: $0.0, path: $0.1, versionPrefix: $0.2, root: debianRoot) }

    /// Debian's 3.14 and 3.15 are built with the experimental JIT, which
    /// PYTHON_JIT=1 turns on: hot loops then run as machine code in
    /// anonymous memory that no CFI describes.
    static let debianJIT: [PythonInterpreter] = debian.filter { $0.label.hasSuffix("-debian-unstable") && !$0.label.hasPrefix("3.13") }
        .map { PythonInterpreter(label: $0.label.replacingOccurrences(of: "-unstable", with: "-jit"), path: $0.path,
                                 versionPrefix: $0.versionPrefix, root: $0.root, environment: ["PYTHON_JIT": "1"]) }

    /// A Debian unstable interpreter; the test is skipped, saying so, when
    /// its root has not been built.
    static func requireDebian(_ label: String) throws -> PythonInterpreter {
        guard let interpreter = (debian + debianJIT).first(where: { $0.label == label }) else {
            XCTFail("no interpreter labelled \(label); known: \((debian + debianJIT).map(\.label))")
            throw CancellationError()
        }
        guard FileManager.default.fileExists(atPath: debianRoot + "/.pyrograph-complete") else {
            throw XCTSkip("\(debianRoot) is missing: run Tests/Interpreters/debian-unstable.sh (make test does)")
        }
        guard FileManager.default.isExecutableFile(atPath: interpreter.hostPath) else {
            XCTFail("\(interpreter) is missing from \(debianRoot)")
            throw CancellationError()
        }
        return interpreter
    }

    /// The interpreter whose path the environment variable `variable`
    /// holds (a build this machine has none of); the test is skipped,
    /// saying so, when it is not set.
    static func given(_ variable: String, label: String) throws -> PythonInterpreter {
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else {
            throw XCTSkip("no \(label) build here: set \(variable) to one's python to run this test")
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            XCTFail("\(variable)=\(path) is not an executable")
            throw CancellationError()
        }
        return PythonInterpreter(label: label, path: path, versionPrefix: "3.")
    }

    /// Tests/PyrographTests/Fixtures/python/NAME.
    static func script(_ name: String) -> URL {
        TestSupport.fixtures.appendingPathComponent("python").appendingPathComponent(name)
    }

    static func require(_ label: String) throws -> PythonInterpreter {
        guard let interpreter = all.first(where: { $0.label == label }) else {
            XCTFail("no interpreter labelled \(label); known: \(all.map(\.label))")
            throw CancellationError()
        }
        guard FileManager.default.isExecutableFile(atPath: interpreter.path) else {
            XCTFail("\(interpreter) is missing: the Python tests need all of \(all.map(\.path))")
            throw CancellationError()
        }
        return interpreter
    }

    /// Every build the tests run: `all`, Debian unstable's (release, debug
    /// and JIT) when its root has been built, and a directory all of them
    /// reach: inside that root (the chroot ones see it as /tmp/...), or
    /// the host's temporary directory without it.
    static func requireEveryBuild() throws -> (interpreters: [PythonInterpreter], directory: URL) {
        let host = try requireAll()
        guard FileManager.default.fileExists(atPath: debianRoot + "/.pyrograph-complete") else {
            print("only the host's interpreters: \(debianRoot) is missing (make test builds it)")
            return (host, try TestSupport.temporaryDirectory())
        }
        let debian = try (debian + debianJIT).map { try requireDebian($0.label) }
        return (host + debian, try debian[0].temporaryDirectory())
    }

    static func requireAll() throws -> [PythonInterpreter] {
        let missing = all.filter { !FileManager.default.isExecutableFile(atPath: $0.path) }
        guard missing.isEmpty else {
            XCTFail("missing interpreters: \(missing.map(\.path).joined(separator: ", "))")
            throw CancellationError()
        }
        return all
    }
}

/// A fixture script running in the background.
final class PythonRun {
    let interpreter: PythonInterpreter
    let script: URL
    let process: Process
    let log: URL
    /// Just before the process was started.
    let startedAt: Date

    init(interpreter: PythonInterpreter, script: URL, process: Process, log: URL, startedAt: Date) {
        self.interpreter = interpreter
        self.script = script
        self.process = process
        self.log = log
        self.startedAt = startedAt
    }

    /// Waits for the script to exit, checks it succeeded, and decodes the
    /// JSON report it wrote to `report` (snake_case keys).
    func finish<Report: Decodable>(_ type: Report.Type, report: URL) throws -> Report {
        process.waitUntilExit()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            XCTFail("\(interpreter): \(script.lastPathComponent) exited with status \(process.terminationStatus):\n\(output)")
            throw CancellationError()
        }
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(Report.self, from: Data(contentsOf: report))
        } catch {
            XCTFail("\(interpreter): cannot read the report \(report.path) of \(script.lastPathComponent): \(error)\n\(output)")
            throw CancellationError()
        }
    }
}
