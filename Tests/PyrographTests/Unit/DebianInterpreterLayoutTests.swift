import CPyrograph
import Foundation
@testable import PythonRuntime
import Symbolization
import XCTest

/// The struct versions of `_Py_DebugOffsets` and the layouts read through
/// them, checked against Debian unstable's real 3.14 and 3.15 builds (release
/// and debug): the table each binary carries in its `.PyRuntime` section,
/// and offsetof() measured against the headers Debian ships for it
/// (libpython3.X-dev in the root Tests/Interpreters/debian-unstable.sh builds).
final class DebianInterpreterLayoutTests: XCTestCase {
    struct Build {
        var binary: String
        var headers: String
        var structVersion: DebugOffsets.StructVersion
    }

    static let builds = [
        Build(binary: "/usr/bin/python3.14", headers: "python3.14", structVersion: DebugOffsets.v314),
        Build(binary: "/usr/bin/python3.14-dbg", headers: "python3.14d", structVersion: DebugOffsets.v314),
        Build(binary: "/usr/bin/python3.15", headers: "python3.15", structVersion: DebugOffsets.v315),
        Build(binary: "/usr/bin/python3.15-dbg", headers: "python3.15d", structVersion: DebugOffsets.v315),
    ]

    /// Every field of the struct version sits where the headers put it, and
    /// the struct has no field the version lacks (its size).
    func testStructVersionsMatchTheRealHeaders() throws {
        let root = try Self.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for build in Self.builds {
            let measured = try Self.measure(build, root: root, in: directory)
            XCTAssertEqual(measured["sizeof"], build.structVersion.size, "\(build.binary): sizeof(_Py_DebugOffsets)")
            for (field, position) in build.structVersion.positions {
                XCTAssertEqual(measured[field], position, "\(build.binary): \(field)")
            }
        }
    }

    /// The layout read from the table in the binary equals what the headers
    /// say, field by field, including what the table does not carry
    /// (co_version) and the frame and object facts the walker relies on.
    func testLayoutsFromTheRealTablesMatchTheRealHeaders() throws {
        let root = try Self.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for build in Self.builds {
            let measured = try Self.measure(build, root: root, in: directory)
            let bytes = try XCTUnwrap(try ELFFile.sectionData(path: root + build.binary, named: ".PyRuntime"),
                                      "\(build.binary) has no .PyRuntime section")
            let header = try XCTUnwrap(DebugOffsets.header(bytes), "\(build.binary): no cookie")
            XCTAssertFalse(header.freeThreaded)
            let structVersion = try XCTUnwrap(DebugOffsets.structVersion(forVersionHex: header.versionHex))
            XCTAssertEqual(structVersion.name, build.structVersion.name)
            let offsets = try XCTUnwrap(DebugOffsets(bytes, structVersion: structVersion))
            let layout: PythonLayout
            switch DebugOffsetsFamily.layout(from: offsets) {
            case .success(let read): layout = read
            case .failure(let refusal): XCTFail("\(build.binary): \(refusal)"); continue
            }
            XCTAssertNil(PythonWalkerSupport.refusal(for: layout, version: header.version), build.binary)
            let claims: [(String, Int?)] = [
                ("framePrevious", layout.framePrevious), ("frameCode", layout.frameCode),
                ("frameInstruction", layout.frameInstruction), ("frameOwner", layout.frameOwner),
                ("threadFrame", layout.threadFrame), ("threadID", layout.threadID), ("threadNext", layout.threadNext),
                ("codeFilename", layout.codeFilename), ("codeQualname", layout.codeQualname),
                ("codeFirstLineNumber", layout.codeFirstLineNumber), ("codeLineTable", layout.codeLineTable),
                ("codeAdaptive", layout.codeAdaptive), ("codeVersion", layout.codeVersion),
                ("objectType", layout.objects.objectType), ("unicodeLength", layout.objects.unicodeLength),
                ("unicodeState", layout.objects.unicodeState), ("bytesSize", layout.objects.bytesSize),
                ("bytesData", layout.objects.bytesData), ("threadBaseFrame", layout.threadBaseFrame),
            ]
            for (name, claimed) in claims {
                XCTAssertEqual(claimed, measured[name], "\(build.binary): \(name)")
            }
            if case let .unicode(asciiData, compactData) = layout.strings {
                XCTAssertEqual(asciiData, measured["asciiData"], build.binary)
                XCTAssertEqual(compactData, measured["compactData"], build.binary)
            }
            XCTAssertEqual(layout.frameExecutableTagBits & ~UInt64(measured["stackRefTagBits"] ?? 0), 0,
                           "\(build.binary): the walker clears at least Py_TAG_BITS")
            XCTAssertEqual(measured["ownedByInterpreter"], 3, "the walker's PYRO_FRAME_OWNED_BY_INTERPRETER")
        }
    }

    static func requireRoot() throws -> String {
        let root = PythonInterpreters.debianRoot
        guard FileManager.default.fileExists(atPath: root + "/.pyrograph-complete") else {
            throw XCTSkip("\(root) is missing: run Tests/Interpreters/debian-unstable.sh (make test does)")
        }
        return root
    }

    /// Compiles a program printing offsetof() of every field of the build's
    /// struct version and of the layout's fields against its headers.
    static func measure(_ build: Build, root: String, in directory: URL, flags: [String] = []) throws -> [String: Int] {
        let include = "\(root)/usr/include/\(build.headers)"
        guard FileManager.default.fileExists(atPath: include + "/internal/pycore_debug_offsets.h") else {
            XCTFail("\(include) lacks the internal headers: debian-unstable.sh installs libpython3.X-dev")
            throw CancellationError()
        }
        var source = """
            #define Py_BUILD_CORE 1
            #include <Python.h>
            #include "internal/pycore_runtime.h"
            #include "internal/pycore_interpframe.h"
            #include "internal/pycore_code.h"
            #include "internal/pycore_stackref.h"
            #include <stddef.h>
            #include <stdio.h>
            #include <string.h>
            int main(void) {
                printf("{\\"sizeof\\": %zu", sizeof(_Py_DebugOffsets));
            #define F(name, value) printf(",\\n\\"%s\\": %zu", name, (size_t)(value))

            """
        for (section, fields) in build.structVersion.sections {
            for field in fields {
                source += "    F(\"\(section).\(field)\", offsetof(_Py_DebugOffsets, \(section).\(field)));\n"
            }
        }
        source += """
                F("framePrevious", offsetof(_PyInterpreterFrame, previous));
                F("frameCode", offsetof(_PyInterpreterFrame, f_executable));
                F("frameInstruction", offsetof(_PyInterpreterFrame, instr_ptr));
                F("frameOwner", offsetof(_PyInterpreterFrame, owner));
                F("threadFrame", offsetof(PyThreadState, current_frame));
                F("threadID", offsetof(PyThreadState, thread_id));
                F("threadNext", offsetof(PyThreadState, next));
            #if PY_VERSION_HEX >= 0x030F0000
                F("threadBaseFrame", offsetof(PyThreadState, base_frame));
            #endif
                F("codeFilename", offsetof(PyCodeObject, co_filename));
                F("codeQualname", offsetof(PyCodeObject, co_qualname));
                F("codeFirstLineNumber", offsetof(PyCodeObject, co_firstlineno));
                F("codeLineTable", offsetof(PyCodeObject, co_linetable));
                F("codeAdaptive", offsetof(PyCodeObject, co_code_adaptive));
                F("codeVersion", offsetof(PyCodeObject, co_version));
                F("objectType", offsetof(PyObject, ob_type));
                F("unicodeLength", offsetof(PyASCIIObject, length));
                F("unicodeState", offsetof(PyASCIIObject, state));
                F("asciiData", sizeof(PyASCIIObject));
                F("compactData", sizeof(PyCompactUnicodeObject));
                F("bytesSize", offsetof(PyBytesObject, ob_base.ob_size));
                F("bytesData", offsetof(PyBytesObject, ob_sval));
                F("stackRefTagBits", Py_TAG_BITS);
                F("ownedByInterpreter", FRAME_OWNED_BY_INTERPRETER);
            #ifdef Py_GIL_DISABLED
                F("frameTLBCIndex", offsetof(_PyInterpreterFrame, tlbc_index));
                F("codeTLBC", offsetof(PyCodeObject, co_tlbc));
            #endif
                {
                    PyASCIIObject probe;
                    unsigned int state = 0;
                    memset(&probe, 0, sizeof probe);
                    probe.state.kind = 1;
                    memcpy(&state, &probe.state, sizeof state);
                    F("unicodeKindAt", __builtin_ctz(state));
                }
                printf("}\\n");
                return 0;
            }

            """
        let name = "debug_offsets_\(build.headers)\(flags.joined().filter(\.isLetter))"
        let file = directory.appendingPathComponent(name + ".c")
        try source.write(to: file, atomically: true, encoding: .utf8)
        let binary = directory.appendingPathComponent(name).path
        // The root's own libc headers come after the host's: only the
        // Python headers (and their pyconfig.h) are taken from it.
        let compiled = try TestSupport.run("/usr/bin/gcc", ["-w"] + flags + ["-I", include, "-idirafter", "\(root)/usr/include",
                                                                       "-o", binary, file.path])
        guard compiled.status == 0 else {
            XCTFail("gcc against \(include) failed: \(compiled.stderr)")
            throw CancellationError()
        }
        let result = try TestSupport.run(binary, [])
        XCTAssertEqual(result.status, 0, result.stderr)
        return try JSONDecoder().decode([String: Int].self, from: Data(result.stdout.utf8))
    }
}
