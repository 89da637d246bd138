import Foundation
import ProcessInspection
import PythonRuntime
import Symbolization
import XCTest

/// Finding CPython in live processes: every installed interpreter is run,
/// asked for its own sys.hexversion, and the detector must agree.
final class PythonDetectionTests: XCTestCase {
    struct Interpreter {
        var path: String
        var expected: PythonVersion
        var buildKind: PythonProcess.BuildKind
    }

    static let pyenv = "/root/.pyenv/versions"

    /// The pyenv builds (shared libpython) and Debian's python3.11 (static).
    static let interpreters: [Interpreter] = [
        "2.7.18", "3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0",
    ].map { Interpreter(path: "\(pyenv)/\($0)/bin/python", expected: PythonVersion(string: $0)!, buildKind: .shared) }
        + [Interpreter(path: "/usr/bin/python3.11", expected: PythonVersion(major: 3, minor: 11, micro: 0), buildKind: .static)]

    static let script = "import time,sys; print(sys.hexversion); sys.stdout.flush(); time.sleep(30)"

    func testDetectsEveryInstalledInterpreter() throws {
        try TestSupport.requireRoot()
        var children: [(Interpreter, FixtureChild)] = []
        defer { children.forEach { $0.1.stop() } }
        for interpreter in Self.interpreters {
            guard FileManager.default.isExecutableFile(atPath: interpreter.path) else {
                XCTFail("\(interpreter.path) is not installed")
                continue
            }
            children.append((interpreter, try FixtureChild(interpreter.path, ["-c", Self.script])))
        }

        let detector = PythonProcessDetector()
        for (interpreter, child) in children {
            let context = interpreter.path
            let line = try child.readLine(timeout: 30)
            let hex = try XCTUnwrap(UInt64(line.trimmingCharacters(in: .whitespaces)), "\(context) printed \(line)")
            let reported = PythonVersion(hex: hex)
            if interpreter.buildKind == .shared {
                XCTAssertEqual(reported, interpreter.expected, "\(context): sys.hexversion vs the pyenv directory")
            } else {
                XCTAssertEqual(reported.majorMinor, interpreter.expected.majorMinor, context)
            }

            guard let detected = detector.detect(pid: child.pid) else {
                XCTFail("\(context): no Python detected in pid \(child.pid)")
                continue
            }
            XCTAssertEqual(detected.pid, child.pid, context)
            XCTAssertEqual(detected.version?.major, reported.major, context)
            XCTAssertEqual(detected.version?.minor, reported.minor, context)
            XCTAssertEqual(detected.version?.micro, reported.micro, context)
            XCTAssertEqual(detected.buildKind, interpreter.buildKind, context)
            if interpreter.buildKind == .shared {
                XCTAssertTrue(detected.interpreterPath.contains("/libpython\(reported.majorMinor)"),
                              "\(context): \(detected.interpreterPath)")
            } else {
                XCTAssertEqual(detected.interpreterPath, interpreter.path, context)
            }
            XCTAssertTrue(detected.isSupported, "\(context): \(detected.unsupportedReason ?? "no layout")")
            XCTAssertNil(detected.unsupportedReason, context)
            XCTAssertNotEqual(detected.interpreterHeadAddress, 0, context)

            // The head address must really lead to the main interpreter and
            // its thread list in the child's memory.
            guard let layout = detected.layout else { continue }
            let memory = try ProcessMemory(pid: child.pid)
            let interpreterState = memory.load(UInt64.self, at: detected.interpreterHeadAddress)
            XCTAssertNotNil(interpreterState, "\(context): head address unreadable")
            XCTAssertNotEqual(interpreterState ?? 0, 0, "\(context): no interpreter at the head address")
            if let interpreterState, interpreterState != 0 {
                let thread = memory.load(UInt64.self, at: interpreterState + UInt64(layout.interpreterThreadsHead))
                XCTAssertNotEqual(thread ?? 0, 0, "\(context): the main interpreter has no thread state")
            }
        }

        // The detector caches per file; a second look gives the same answer.
        if let first = children.first {
            XCTAssertEqual(detector.detect(pid: first.1.pid)?.version, first.0.expected)
        }
    }

    /// A stripped pre-3.11 libpython has neither Py_Version nor the static
    /// `version` buffer: its version comes from the file's .rodata. The
    /// detector shares what it learnt about the file across processes, so
    /// the second process must be detected even after the first has exited.
    func testStrippedInterpreterAfterTheFirstProcessExits() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let home = "\(Self.pyenv)/3.9.18"
        let stripped = directory.appendingPathComponent("libpython3.9.so.1.0")
        let strip = try TestSupport.run("/usr/bin/strip", ["--strip-all", "-o", stripped.path, "\(home)/lib/libpython3.9.so.1.0"])
        XCTAssertEqual(strip.status, 0, strip.stderr)
        let symbols = try ELFFile.symbolValues(path: stripped.path, names: ["version.0", "version", "Py_Version", "Py_Initialize"])
        XCTAssertEqual(Set(symbols.keys), ["Py_Initialize"], "the stripped copy keeps only exported symbols")

        // RUNPATH yields to LD_LIBRARY_PATH: the interpreter loads the copy.
        let environment = ["LD_LIBRARY_PATH": directory.path]
        let detector = PythonProcessDetector()
        for round in ["first", "second"] {
            let child = try FixtureChild("\(home)/bin/python3.9", ["-c", Self.script], environment: environment)
            defer { child.stop() }
            _ = try child.readLine(timeout: 30)
            let detected = detector.detect(pid: child.pid)
            XCTAssertEqual(detected?.interpreterPath, stripped.path, round)
            XCTAssertEqual(detected?.version, PythonVersion(major: 3, minor: 9, micro: 18), "\(round) process")
            XCTAssertTrue(detected?.isSupported == true, "\(round) process: \(detected?.unsupportedReason ?? "not detected")")
        }
    }

    func testNonPythonProcessIsNotDetected() throws {
        try TestSupport.requireRoot()
        let sleeper = try FixtureChild("/bin/sleep", ["30"])
        defer { sleeper.stop() }
        usleep(100_000)
        XCTAssertNil(PythonProcessDetector().detect(pid: sleeper.pid))
        // The test process itself runs no Python.
        XCTAssertNil(PythonProcessDetector().detect(pid: getpid()))
    }

    /// A program named python* is not an interpreter by its name alone.
    func testProgramNamedPythonIsNotDetected() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let impostor = directory.appendingPathComponent("python3.99")
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: impostor.path)
        let child = try FixtureChild(impostor.path, ["30"])
        defer { child.stop() }
        usleep(100_000)
        XCTAssertNil(PythonProcessDetector().detect(pid: child.pid))
    }

    func testVanishedProcessIsNotDetected() throws {
        let child = try FixtureChild("/bin/true", [])
        let pid = child.pid
        child.stop()
        XCTAssertNil(PythonProcessDetector().detect(pid: pid))
    }

    // MARK: PythonVersionScanner

    static func bytes(_ strings: [String]) -> [UInt8] {
        // Each string NUL-terminated, as in .rodata, with some noise first.
        [0x7f, 0x45, 0x00] + strings.flatMap { Array($0.utf8) + [0] }
    }

    func testScannerFindsTailMergedVersion() {
        // The linker merged "3.9.18" into the end of a longer string.
        let data = Self.bytes(["%s: %s", "/root/x/3.9.18", "Py_Initialize"])
        XCTAssertEqual(PythonVersionScanner.version(inReadOnlyData: data, expectedMajorMinor: nil),
                       PythonVersion(major: 3, minor: 9, micro: 18))
        XCTAssertEqual(PythonVersionScanner.version(inReadOnlyData: data, expectedMajorMinor: "3.9"),
                       PythonVersion(major: 3, minor: 9, micro: 18))
    }

    func testScannerUsesTheMajorMinorHintAmongSeveral() {
        let data = Self.bytes(["3.8.10", "2.7.18", "3.10.13", "3.12.1+"])
        XCTAssertNil(PythonVersionScanner.version(inReadOnlyData: data, expectedMajorMinor: nil),
                     "several candidates and no hint: no guess")
        XCTAssertEqual(PythonVersionScanner.version(inReadOnlyData: data, expectedMajorMinor: "3.10"),
                       PythonVersion(major: 3, minor: 10, micro: 13))
        XCTAssertEqual(PythonVersionScanner.version(inReadOnlyData: data, expectedMajorMinor: "2.7"),
                       PythonVersion(major: 2, minor: 7, micro: 18))
        XCTAssertEqual(PythonVersionScanner.version(inReadOnlyData: data, expectedMajorMinor: "3.12"),
                       PythonVersion(major: 3, minor: 12, micro: 1))
        XCTAssertNil(PythonVersionScanner.version(inReadOnlyData: data, expectedMajorMinor: "3.11"),
                     "a hint that matches nothing among several")
        // "3.1" must not match "3.10.13" or "3.12.1+".
        XCTAssertNil(PythonVersionScanner.version(inReadOnlyData: data, expectedMajorMinor: "3.1"))
    }

    func testScannerAcceptsPreReleases() {
        XCTAssertEqual(PythonVersionScanner.version(inReadOnlyData: Self.bytes(["3.13.0rc1"]), expectedMajorMinor: nil),
                       PythonVersion(major: 3, minor: 13, micro: 0))
        XCTAssertEqual(PythonVersionScanner.version(inReadOnlyData: Self.bytes(["3.14.0a3"]), expectedMajorMinor: nil),
                       PythonVersion(major: 3, minor: 14, micro: 0))
        XCTAssertEqual(PythonVersionScanner.version(inReadOnlyData: Self.bytes(["3.12.0b4"]), expectedMajorMinor: "3.12"),
                       PythonVersion(major: 3, minor: 12, micro: 0))
    }

    func testScannerRejectsWhatIsNotAVersion() {
        let rejected = [
            "3.9", "3.9.", "10.1.2", "1.2.3", "4.0.1", "33.9.1", "3.9.18x", "3.9.123", "3.123.1", "3..1",
            "3.9.18.1", "v3.9.18", "x3.9.18", "3.9.rc1", "3.9.1rc", "3.a.1", "GCC 12.2.0", "2.7.18 (default)",
            "Python 3.9.18", "3.9.1-1",
        ]
        for text in rejected {
            XCTAssertNil(PythonVersionScanner.version(inReadOnlyData: Self.bytes([text]), expectedMajorMinor: nil), text)
            XCTAssertNil(PythonVersionScanner.version(inReadOnlyData: Self.bytes([text]), expectedMajorMinor: "3.9"), text)
        }
        // Rejected strings do not count as candidates: the one real version wins.
        XCTAssertEqual(PythonVersionScanner.version(inReadOnlyData: Self.bytes(rejected + ["3.7.16"]), expectedMajorMinor: nil),
                       PythonVersion(major: 3, minor: 7, micro: 16))
        // Only NUL-terminated strings count.
        XCTAssertNil(PythonVersionScanner.version(inReadOnlyData: Array("3.9.18".utf8), expectedMajorMinor: nil))
        XCTAssertNil(PythonVersionScanner.version(inReadOnlyData: [], expectedMajorMinor: "3.9"))
    }

    func testSysVersionPrefix() {
        XCTAssertEqual(PythonVersionScanner.version(fromSysVersion: Array("3.9.18 (main, Jan  1 2024, 00:00:00) \n[GCC 12.2.0]".utf8)),
                       PythonVersion(major: 3, minor: 9, micro: 18))
        XCTAssertEqual(PythonVersionScanner.version(fromSysVersion: Array("2.7.18\0garbage".utf8)),
                       PythonVersion(major: 2, minor: 7, micro: 18))
        XCTAssertEqual(PythonVersionScanner.version(fromSysVersion: Array("3.13.0rc1 (main)".utf8)),
                       PythonVersion(major: 3, minor: 13, micro: 0))
        XCTAssertNil(PythonVersionScanner.version(fromSysVersion: Array("\0\0\0\0".utf8)), "a buffer not filled yet")
        XCTAssertNil(PythonVersionScanner.version(fromSysVersion: Array("garbage 3.9.18".utf8)))
        XCTAssertNil(PythonVersionScanner.version(fromSysVersion: []))
    }

    /// The scanner on the interpreters' real .rodata, with the hint the
    /// detector derives from the file name.
    func testScannerOnInstalledInterpreters() throws {
        for interpreter in Self.interpreters {
            let file: String
            let hint = interpreter.expected.majorMinor
            if interpreter.buildKind == .shared {
                let lib = "\(Self.pyenv)/\(interpreter.expected)/lib"
                let names = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
                guard let name = names.filter({ $0.hasPrefix("libpython\(hint)") && $0.contains(".so") }).sorted().first else {
                    XCTFail("no libpython\(hint) in \(lib)")
                    continue
                }
                file = "\(lib)/\(name)"
            } else {
                file = interpreter.path
            }
            let rodata = try XCTUnwrap(try ELFFile.sectionData(path: file, named: ".rodata"), "\(file) has no .rodata")
            let found = PythonVersionScanner.version(inReadOnlyData: rodata, expectedMajorMinor: hint)
            if interpreter.buildKind == .shared {
                XCTAssertEqual(found, interpreter.expected, file)
            } else {
                XCTAssertEqual(found?.majorMinor, hint, file)
            }
        }
    }

    func testVersionFromHex() {
        let version = PythonVersion(hex: 0x030912f0)
        XCTAssertEqual(version, PythonVersion(major: 3, minor: 9, micro: 18))
        XCTAssertEqual(version.hex, 0x03091200)
        XCTAssertEqual(PythonVersion(hex: 0x030d00c1), PythonVersion(major: 3, minor: 13, micro: 0))
        XCTAssertEqual(PythonVersion(hex: 0x020712f0).description, "2.7.18")
    }
}
