import CPyrograph
import Foundation
@testable import PythonRuntime
import XCTest

/// Every offset in PythonLayoutTable against the installed headers:
/// Fixtures/python/layout_offsets.c prints offsetof()/sizeof() for the
/// version it is compiled against, and each claim must match.
final class PythonLayoutTableTests: XCTestCase {
    struct Headers {
        var version: PythonVersion
        var include: String
    }

    static let pyenv = "/root/.pyenv/versions"

    /// The pyenv builds, plus Debian's headers for its static python3.11.
    static let headers: [Headers] = [
        ("2.7.18", "python2.7"), ("3.6.15", "python3.6m"), ("3.7.16", "python3.7m"), ("3.8.18", "python3.8"),
        ("3.9.18", "python3.9"), ("3.10.13", "python3.10"), ("3.11.7", "python3.11"), ("3.12.1", "python3.12"),
    ].map { Headers(version: PythonVersion(string: $0.0)!, include: "\(pyenv)/\($0.0)/include/\($0.1)") }
        + [Headers(version: PythonVersion(major: 3, minor: 11, micro: 2), include: "/usr/include/python3.11")]

    func testEveryLayoutMatchesItsHeaders() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for headers in Self.headers {
            let measured = try Self.measure(headers, in: directory)
            XCTAssertEqual(measured["versionHex"].map { PythonVersion(hex: UInt64($0)) }, headers.version,
                           "headers at \(headers.include)")
            let layout = try XCTUnwrap(PythonLayoutTable.layout(for: headers.version), "no layout for \(headers.version)")
            for (name, claimed) in Self.claims(of: layout) {
                XCTAssertEqual(claimed, measured[name], "\(name) for \(headers.version) (\(headers.include))")
            }
            XCTAssertLessThanOrEqual(layout.frameWindow, Int(PYRO_MAX_FRAME_WINDOW), "\(headers.version)")
        }
    }

    /// 3.13 has no table entry: the loader reads `_PyRuntime.debug_offsets`.
    /// Pin the facts that plan rests on.
    func testPython313DebugOffsets() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let headers = Headers(version: PythonVersion(major: 3, minor: 13, micro: 0),
                              include: "\(Self.pyenv)/3.13.0/include/python3.13")
        XCTAssertNil(PythonLayoutTable.layout(for: headers.version))
        let measured = try Self.measure(headers, in: directory)
        XCTAssertEqual(measured["runtimeDebugOffsets"], 0, "debug_offsets opens _PyRuntime")
        XCTAssertEqual(measured["debugOffsetsSize"], 584)
        XCTAssertEqual(measured["debugOffsetsCodeAdaptive"], 344, "code_object.co_code_adaptive within _Py_DebugOffsets")
        XCTAssertEqual(measured["codeVersion"], 92)
        XCTAssertEqual(measured["codeVersion"].map { $0 - measured["codeFirstLineNumber"]! },
                       DebugOffsetsFamily.codeVersionAfterFirstLine, "co_version, which the table does not give")
        XCTAssertEqual(measured["compactData"].map { $0 - measured["asciiData"]! }, DebugOffsetsFamily.compactUnicodeExtra)
        XCTAssertEqual(measured["codeAdaptive"], 200)
        XCTAssertEqual(measured["frameOwner"], 70)
        XCTAssertEqual(measured["asciiData"], 40)
        XCTAssertEqual(measured["compactData"], 56)
        // _Py_DebugOffsets give the GIL's fields but not its size.
        XCTAssertEqual(measured["gilSize"], GILLayout.structSize)
        XCTAssertEqual(measured["interpreterGIL"], 16)
    }

    /// What the table says, under the names layout_offsets.c prints. A nil
    /// claim must be a field the C program leaves out.
    static func claims(of layout: PythonLayout) -> [(String, Int?)] {
        var claims: [(String, Int?)] = [
            ("runtimeInterpretersHead", layout.runtimeInterpretersHead),
            ("interpreterThreadsHead", layout.interpreterThreadsHead),
            ("threadNext", layout.threadNext),
            ("threadID", layout.threadID),
            ("threadFrame", layout.threadFrame),
            ("cframeCurrentFrame", layout.cframeCurrentFrame),
            ("framePrevious", layout.framePrevious),
            ("frameCode", layout.frameCode),
            ("frameInstruction", layout.frameInstruction),
            ("frameInstructionSize", layout.instructionIsPointer ? 8 : 4),
            ("frameIsEntry", layout.frameIsEntry),
            ("frameOwner", layout.frameOwner),
            ("codeFilename", layout.codeFilename),
            ("codeName", layout.codeName),
            ("codeQualname", layout.codeQualname),
            ("codeFirstLineNumber", layout.codeFirstLineNumber),
            ("codeLineTable", layout.codeLineTable),
            ("codeAdaptive", layout.codeAdaptive),
            ("codeVersion", layout.codeVersion),
            ("lineTableData", layout.lineTableDataOffset),
        ]
        switch layout.gil?.place {
        case .runtime(let offset)?: claims += [("runtimeGIL", offset), ("interpreterGIL", nil)]
        case .interpreterPointer(let offset)?: claims += [("runtimeGIL", nil), ("interpreterGIL", offset)]
        case nil: claims += [("runtimeGIL", nil), ("interpreterGIL", nil)]
        // 2.7 and 3.6: an exported pointer, no struct the headers describe.
        case .currentThreadState?: claims += [("runtimeGIL", nil), ("interpreterGIL", nil)]
        }
        if case .currentThreadState? = layout.gil?.place {
            claims += [("gilLocked", nil), ("gilLastHolder", nil), ("gilSize", nil)]
        } else {
            claims += [("gilLocked", layout.gil?.locked), ("gilLastHolder", layout.gil?.lastHolder), ("gilSize", layout.gil?.size)]
        }
        switch layout.strings {
        case .python2Bytes:
            claims += [("stringSize", 16), ("stringData", 36), ("asciiData", nil), ("compactData", nil)]
        case .unicode(let asciiData, let compactData):
            claims += [("asciiData", asciiData), ("compactData", compactData), ("unicodeLength", 16),
                       ("unicodeState", 32), ("bytesSize", 16), ("stringSize", nil)]
        }
        return claims
    }

    /// Compiles layout_offsets.c against `headers` and runs it.
    static func measure(_ headers: Headers, in directory: URL) throws -> [String: Int] {
        guard FileManager.default.fileExists(atPath: "\(headers.include)/Python.h") else {
            XCTFail("headers missing: \(headers.include)/Python.h; these tests need every supported CPython's headers")
            throw CancellationError()
        }
        let source = TestSupport.fixtures.appendingPathComponent("python/layout_offsets.c").path
        let binary = directory.appendingPathComponent("layout_offsets-\(headers.version)").path
        let compiled = try TestSupport.run("/usr/bin/gcc", ["-Wall", "-Werror", "-I", headers.include, "-o", binary, source])
        guard compiled.status == 0 else {
            XCTFail("gcc against \(headers.include) failed: \(compiled.stderr)")
            throw CancellationError()
        }
        let result = try TestSupport.run(binary, [])
        XCTAssertEqual(result.status, 0, result.stderr)
        return try JSONDecoder().decode([String: Int].self, from: Data(result.stdout.utf8))
    }
}
