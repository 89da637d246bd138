import CPyrograph
import Foundation
import ProcessInspection
@testable import PythonRuntime
import XCTest

/// The Python runtime seam: which family reads which interpreter, and the
/// `_Py_DebugOffsets` family's reading of the struct, checked against the
/// installed 3.13 headers and against a real 3.13's table (from its walker
/// image, no root), and refusing what it cannot be sure of.
final class PythonRuntimeFamilyTests: XCTestCase {
    static let headers313 = PythonLayoutTableTests.Headers(
        version: PythonVersion(major: 3, minor: 13, micro: 0),
        include: "\(PythonLayoutTableTests.pyenv)/3.13.0/include/python3.13")

    /// `_PyRuntime` of the recorded 3.13: its `interpreters.head` is at 632.
    static let runtimeOffset313: UInt64 = 632

    static func image313() throws -> WalkerImage {
        let file = PythonWalkerTests.imageDirectory.appendingPathComponent("3.13.json")
        return try JSONDecoder().decode(WalkerImage.self, from: Data(contentsOf: file))
    }

    /// The family's reading of a recorded image's table.
    static func debugOffsetsFamilyResolution(_ image: WalkerImage) -> PythonLayoutResolution? {
        DebugOffsetsFamily().resolve(facts(ImageMemory(image.segments),
                                           runtime: image.runtimeAddress ?? image.interpreterHeadAddress - runtimeOffset313))
    }

    static func facts(_ memory: MemoryReader, runtime: UInt64, version: PythonVersion? = nil) -> PythonInterpreterFacts {
        PythonInterpreterFacts(memory: memory, runtimeAddress: runtime, interpreterHeadSymbol: nil,
                               interpreterPath: "test", version: { version })
    }

    /// The 3.13 table's bytes, as the recorded interpreter wrote them.
    static func table313() throws -> [UInt8] {
        let image = try image313()
        let bytes = ImageMemory(image.segments).bytes(image.interpreterHeadAddress - runtimeOffset313,
                                                       count: DebugOffsets.v313.size)
        return try XCTUnwrap(bytes, "the 3.13 image lacks its _Py_DebugOffsets")
    }

    // MARK: Struct versions

    /// Every field of 3.13's struct where the headers put it, and nothing else.
    func testStructVersion313MatchesTheHeadersFieldByField() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let measured = try PythonLayoutTableTests.measure(Self.headers313, in: directory)
        let headerPositions = measured.filter { $0.key.hasPrefix("debugOffsets.") }
            .reduce(into: [String: Int]()) { $0[String($1.key.dropFirst("debugOffsets.".count))] = $1.value }
        XCTAssertEqual(DebugOffsets.v313.positions, headerPositions)
        XCTAssertEqual(DebugOffsets.v313.size, measured["debugOffsetsSize"], "sizeof(_Py_DebugOffsets)")
    }

    /// The totals the struct versions add up to: 3.15's is the one CPython's
    /// own remote unwinder asserts (888); 3.14's is what its sections add up
    /// to, not confirmed by a build.
    func testStructVersionSizes() {
        XCTAssertEqual(DebugOffsets.v313.size, 584)
        XCTAssertEqual(DebugOffsets.v314.size, 760)
        XCTAssertEqual(DebugOffsets.v315.size, 888)
        XCTAssertEqual(DebugOffsets.v315.position("thread_state", "thread_id"), 24 + 24 + 128 + 64)
    }

    func testStructVersionIsChosenByTheTablesOwnVersion() {
        XCTAssertEqual(DebugOffsets.structVersion(forVersionHex: 0x030D_00F0)?.name, "3.13")
        XCTAssertEqual(DebugOffsets.structVersion(forVersionHex: 0x030D_07F0)?.name, "3.13")
        XCTAssertEqual(DebugOffsets.structVersion(forVersionHex: 0x030D_00C1)?.name, "3.13", "rc1: ABI frozen")
        XCTAssertNil(DebugOffsets.structVersion(forVersionHex: 0x030D_00B1), "a beta's struct may differ")
        XCTAssertNil(DebugOffsets.structVersion(forVersionHex: 0x030F_00B2), "3.15.0b2 predates a thread-state field")
        XCTAssertEqual(DebugOffsets.structVersion(forVersionHex: 0x030E_0AF0)?.name, "3.14")
        XCTAssertEqual(DebugOffsets.structVersion(forVersionHex: 0x030F_00F0)?.name, "3.15")
        XCTAssertNil(DebugOffsets.structVersion(forVersionHex: 0x0310_00F0), "3.16")
        XCTAssertNil(DebugOffsets.structVersion(forVersionHex: 0x040D_00F0))
    }

    // MARK: The 3.13 layout, from a real interpreter's table

    /// The layout read from a real 3.13's table says what the 3.13 headers
    /// say, claim by claim, as the per-version tables are checked; and the
    /// sizes the interpreter reports are the headers' sizes.
    func testLayoutFromA313TableMatchesTheHeaders() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let measured = try PythonLayoutTableTests.measure(Self.headers313, in: directory)
        guard case .layout(let layout, let version)? = Self.debugOffsetsFamilyResolution(try Self.image313()) else {
            return XCTFail("the 3.13 table was not read")
        }
        XCTAssertEqual(version.majorMinor, "3.13")
        for (name, claimed) in PythonLayoutTableTests.claims(of: layout) {
            XCTAssertEqual(claimed, measured[name], "\(name) for 3.13, from _Py_DebugOffsets")
        }
        XCTAssertNil(PythonWalkerSupport.refusal(for: layout, version: version))
        let table = try XCTUnwrap(DebugOffsets(try Self.table313(), structVersion: DebugOffsets.v313))
        let reported: [(String, String)] = [
            ("runtime_state", "sizeofRuntimeState"), ("interpreter_state", "sizeofInterpreterState"),
            ("thread_state", "sizeofThreadState"), ("interpreter_frame", "sizeofInterpreterFrame"),
            ("code_object", "sizeofCodeObject"), ("unicode_object", "sizeofUnicodeObject"),
            ("bytes_object", "sizeofBytesObject"),
        ]
        for (section, header) in reported {
            XCTAssertEqual(table.value(section, "size").map(Int.init), measured[header], "\(section).size")
        }
    }

    /// The layout the old hard-coded 3.13 reader gave, unchanged.
    func testLayoutFromThe313TableIsTheOneUsedBefore() throws {
        guard case .layout(let layout, _)? = Self.debugOffsetsFamilyResolution(try Self.image313()) else {
            return XCTFail("the 3.13 table was not read")
        }
        let before = PythonLayout(
            runtimeInterpretersHead: 632, interpreterThreadsHead: 7344,
            threadNext: 8, threadID: 152, threadFrame: 72, cframeCurrentFrame: nil,
            framePrevious: 8, frameCode: 0, frameInstruction: 56, instructionIsPointer: true,
            frameIsEntry: nil, frameOwner: 70,
            codeFilename: 112, codeName: 120, codeQualname: 128, codeFirstLineNumber: 68, codeLineTable: 136,
            codeAdaptive: 200, codeVersion: 92,
            lineTableFormat: .locationTable, strings: .unicode(asciiData: 40, compactData: 56))
            // And the GIL, which the table gives too: interp->ceval.gil, and
            // locked/last_holder as in the 3.13 headers' struct.
            .with(gil: GILLayout(place: .interpreterPointer(offset: 16), locked: 16, lastHolder: 8))
        XCTAssertEqual(layout, before)
    }

    // MARK: Refusals

    private func resolve(_ bytes: [UInt8], version: PythonVersion? = nil) -> PythonLayoutResolution? {
        let base: UInt64 = 0x10_0000
        let segment = WalkerImage.Segment(address: base, hex: bytes.map { String(format: "%02x", $0) }.joined())
        return DebugOffsetsFamily().resolve(Self.facts(ImageMemory([segment]), runtime: base, version: version))
    }

    private func set(_ bytes: inout [UInt8], _ structVersion: DebugOffsets.StructVersion,
                     _ section: String, _ field: String, _ value: UInt64) {
        let at = structVersion.position(section, field)!
        for index in 0..<8 { bytes[at + index] = UInt8((value >> (8 * UInt64(index))) & 0xff) }
    }

    private func refusal(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> PythonRuntimeRefusal? {
        switch resolve(bytes) {
        case .refused(let refusal, _)?: return refusal
        case .layout?: XCTFail("read a layout from a table it should refuse", file: file, line: line)
        case nil: XCTFail("did not recognise the table", file: file, line: line)
        }
        return nil
    }

    func testUnknownStructVersionIsRefusedWithItsVersion() throws {
        var bytes = try Self.table313()
        bytes.replaceSubrange(8..<16, with: [0xf0, 0x00, 0x10, 0x03, 0, 0, 0, 0]) // 3.16.0 final
        let refused = refusal(bytes)
        XCTAssertEqual(refused, .unknownDebugOffsets(PythonVersion(major: 3, minor: 16, micro: 0)))
        XCTAssertEqual(refused?.description,
                       "Python 3.16.0: its _Py_DebugOffsets is of a struct version pyrograph does not know (known: 3.13, 3.14, 3.15)")
    }

    func testFreeThreadedBuildIsRefused() throws {
        var bytes = try Self.table313()
        bytes[16] = 1
        XCTAssertEqual(refusal(bytes), .freeThreaded)
    }

    func testImplausibleSizesAndFieldsAreRefused() throws {
        let version = PythonVersion(major: 3, minor: 13, micro: 0)
        var zeroSize = try Self.table313()
        set(&zeroSize, DebugOffsets.v313, "thread_state", "size", 0)
        XCTAssertEqual(refusal(zeroSize), .implausibleDebugOffsets(version, "thread_state.size is 0"))

        var outside = try Self.table313()
        set(&outside, DebugOffsets.v313, "interpreter_frame", "owner", 80)
        XCTAssertEqual(refusal(outside),
                       .implausibleDebugOffsets(version, "interpreter_frame.owner = 80 lies outside interpreter_frame.size 80"))

        var huge = try Self.table313()
        set(&huge, DebugOffsets.v313, "code_object", "size", 1 << 40)
        XCTAssertEqual(refusal(huge), .implausibleDebugOffsets(version, "code_object.size is 1099511627776"))

        var strings = try Self.table313()
        set(&strings, DebugOffsets.v313, "unicode_object", "length", 60)
        XCTAssertEqual(refusal(strings),
                       .implausibleDebugOffsets(version, "unicode_object.length = 60 lies outside unicode_object.size 64"))

        let truncated = Array(try Self.table313().prefix(DebugOffsets.v313.size - 8))
        XCTAssertEqual(refusal(truncated), .implausibleDebugOffsets(version, "its 584 bytes are unreadable"))
    }

    /// The walker's 16-bit offsets: a far field is refused, not truncated.
    func testOffsetsBeyondTheWalkersReachAreRefused() throws {
        var bytes = try Self.table313()
        set(&bytes, DebugOffsets.v313, "interpreter_state", "threads_head", 70_000)
        guard case .layout(let layout, let version)? = resolve(bytes) else { return XCTFail("not read") }
        XCTAssertEqual(PythonWalkerSupport.refusal(for: layout, version: version),
                       .walkerCannotRead(version, "an offset of 70000 bytes does not fit the walker's 16-bit offsets"))
    }

    func testNoCookieIsNotThisFamilysInterpreter() throws {
        var bytes = try Self.table313()
        bytes[0] = UInt8(ascii: "X")
        XCTAssertNil(resolve(bytes))
    }

    /// A 3.13 whose table is not there (a process caught mid-start or
    /// mid-exit) is refused for that, not for a missing layout.
    func testA313WithoutItsTableIsRefusedForThat() throws {
        var bytes = try Self.table313()
        bytes[0] = UInt8(ascii: "X")
        let version = PythonVersion(major: 3, minor: 13, micro: 0)
        guard case .refused(let refusal, let refusedVersion)? = resolve(bytes, version: version) else {
            return XCTFail("not refused")
        }
        XCTAssertEqual(refusal, .debugOffsetsNotFound(version))
        XCTAssertEqual(refusedVersion, version)
        XCTAssertTrue(refusal.description.contains("starting or exiting"), refusal.description)
    }

    /// 3.14 and 3.15 tables are read (here, tables built from 3.13's values
    /// at the newer positions), then refused for what the walker lacks: no
    /// 3.14 or 3.15 interpreter was at hand to verify a walk.
    func testNewerTablesAreReadAndWalked() throws {
        let table313 = try XCTUnwrap(DebugOffsets(try Self.table313(), structVersion: DebugOffsets.v313))
        for (structVersion, hex) in [(DebugOffsets.v314, UInt64(0x030E_02F0)), (DebugOffsets.v315, UInt64(0x030F_00C1))] {
            var bytes = [UInt8](repeating: 0, count: structVersion.size)
            bytes.replaceSubrange(0..<8, with: DebugOffsets.cookie)
            for index in 0..<8 { bytes[8 + index] = UInt8((hex >> (8 * UInt64(index))) & 0xff) }
            for entry in structVersion.sections {
                for field in entry.fields {
                    set(&bytes, structVersion, entry.name, field, table313.value(entry.name, field) ?? 8)
                }
            }
            guard case .layout(let layout, let version)? = resolve(bytes) else {
                XCTFail("\(structVersion.name): not read")
                continue
            }
            XCTAssertEqual(layout.frameExecutableTagBits, 3, structVersion.name)
            XCTAssertEqual(layout.threadBaseFrame, structVersion.name == "3.15" ? 8 : nil, structVersion.name)
            XCTAssertNil(PythonWalkerSupport.refusal(for: layout, version: version), structVersion.name)
            XCTAssertEqual(pyro_python_layout(PythonProcess(pid: 1, version: version, buildKind: .static, interpreterPath: "",
                                                            layout: layout, interpreterHeadAddress: 1), layout).executable_tag_bits, 3)
            var freeThreaded = layout
            freeThreaded.frameTLBCIndex = 72
            XCTAssertEqual(PythonWalkerSupport.refusal(for: freeThreaded, version: version),
                           .walkerCannotRead(version, "a frame's tlbc_index comes without the code object's co_tlbc"))
        }
    }

    // MARK: Families

    func testEachVersionBelongsToOneFamily() {
        func family(_ major: Int, _ minor: Int) -> String? {
            let facts = PythonInterpreterFacts(memory: ImageMemory([]), runtimeAddress: nil, interpreterHeadSymbol: nil,
                                               interpreterPath: "", version: { PythonVersion(major: major, minor: minor, micro: 0) })
            return PythonRuntimeFamilies.all.first { $0.resolve(facts) != nil }?.name
        }
        for minor in [6, 7, 8, 9, 10] { XCTAssertEqual(family(3, minor), FrameObjectFamily().name, "3.\(minor)") }
        XCTAssertEqual(family(2, 7), FrameObjectFamily().name)
        XCTAssertEqual(family(3, 11), InterpreterFrameFamily().name)
        XCTAssertEqual(family(3, 12), InterpreterFrameFamily().name)
        // Without a table in memory, 3.13 and later are refused for that,
        // not left without a family ("no layout for it").
        XCTAssertEqual(family(3, 13), DebugOffsetsFamily().name)
        XCTAssertEqual(family(3, 15), DebugOffsetsFamily().name)
        XCTAssertNil(family(3, 5))
    }

    func testEvalLoopsAndBoundaries() {
        XCTAssertTrue(FrameObjectFamily().isEvalLoop("PyEval_EvalFrameEx"))
        XCTAssertTrue(FrameObjectFamily().isEvalLoop("_PyEval_EvalFrameDefault"))
        XCTAssertEqual(FrameObjectFamily().invocationBoundary, .everyFrame)
        for family in [InterpreterFrameFamily() as any PythonRuntimeFamily, DebugOffsetsFamily()] {
            XCTAssertTrue(family.isEvalLoop("_PyEval_EvalFrameDefault"), family.name)
            XCTAssertTrue(family.isEvalLoop("_PyEval_EvalFrameDefault.cold"), family.name)
            // 3.11+: PyEval_EvalFrameEx calls the eval loop; it runs no frame itself.
            XCTAssertFalse(family.isEvalLoop("PyEval_EvalFrameEx"), family.name)
            XCTAssertEqual(family.invocationBoundary, .walkerMarkers, family.name)
        }
    }
}
