import CPyrograph
import CPythonWalker
import Foundation
@testable import PythonRuntime
import XCTest

/// Free-threaded 3.14 and 3.15 (`--disable-gil`), for which no live build
/// was available here (Debian ships none): their `_Py_DebugOffsets` is the
/// very initializer CPython compiles into `_PyRuntime`
/// (`_Py_DebugOffsets_INIT`), built against Debian's headers with
/// Py_GIL_DISABLED, and their memory is laid out exactly as that table says.
final class FreeThreadedLayoutTests: XCTestCase {
    static let builds = [
        DebianInterpreterLayoutTests.Build(binary: "(free-threaded 3.14)", headers: "python3.14", structVersion: DebugOffsets.v314),
        DebianInterpreterLayoutTests.Build(binary: "(free-threaded 3.15)", headers: "python3.15", structVersion: DebugOffsets.v315),
    ]
    static let flags = ["-DPy_GIL_DISABLED=1"]

    /// The layout read from a free-threaded table matches offsetof() in
    /// that configuration: the longer object header, the moved frame
    /// owner, tlbc_index and co_tlbc, and the string state's bits.
    func testLayoutFromAFreeThreadedTableMatchesItsHeaders() throws {
        let root = try DebianInterpreterLayoutTests.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for build in Self.builds {
            let (layout, version) = try Self.layout(build, root: root, in: directory)
            let measured = try DebianInterpreterLayoutTests.measure(build, root: root, in: directory, flags: Self.flags)
            XCTAssertNil(PythonWalkerSupport.refusal(for: layout, version: version), build.binary)
            let claims: [(String, Int?)] = [
                ("objectType", layout.objects.objectType), ("frameOwner", layout.frameOwner),
                ("codeFilename", layout.codeFilename), ("codeQualname", layout.codeQualname),
                ("codeFirstLineNumber", layout.codeFirstLineNumber), ("codeLineTable", layout.codeLineTable),
                ("codeAdaptive", layout.codeAdaptive), ("codeVersion", layout.codeVersion),
                ("unicodeLength", layout.objects.unicodeLength), ("unicodeState", layout.objects.unicodeState),
                ("bytesSize", layout.objects.bytesSize), ("bytesData", layout.objects.bytesData),
                ("frameTLBCIndex", layout.frameTLBCIndex), ("codeTLBC", layout.codeTLBC),
            ]
            for (name, claimed) in claims {
                XCTAssertEqual(claimed, measured[name], "\(build.binary): \(name)")
            }
            XCTAssertEqual(measured["objectType"], 24, "the free-threaded object header")
            XCTAssertEqual(measured["unicodeKindAt"], 2 + layout.objects.unicodeStateShift, "\(build.binary): the kind bits")
        }
    }

    /// The host-compiled walker walks a free-threaded stack laid out as the
    /// table says: a tagged executable, an innermost frame running its
    /// thread's copy of the bytecode (tlbc_index 1), its caller running
    /// copy 0, and the entry frame; names and lines as the line table says.
    func testWalkerFollowsPerThreadBytecode() throws {
        let root = try DebianInterpreterLayoutTests.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for build in Self.builds {
            let (layout, version) = try Self.layout(build, root: root, in: directory)
            var image = SyntheticImage(layout: layout)
            let frames = image.build()
            let memory = ImageMemory(image.segments)
            var process = PythonProcess(pid: 0, version: version, buildKind: .static, interpreterPath: "",
                                        layout: layout, interpreterHeadAddress: SyntheticImage.head)
            process.codeTypeAddress = SyntheticImage.codeType
            var encoded = pyro_python_layout(process, layout)
            let sample = UnsafeMutablePointer<pyro_sample>.allocate(capacity: 1)
            defer { sample.deallocate() }
            sample.initialize(to: pyro_sample())
            let box = Unmanaged.passRetained(MemoryBox(memory))
            defer { box.release() }
            withUnsafePointer(to: &encoded) { layout in
                var walker = pyro_python_walker(layout: layout, read: { context, destination, size, address in
                    let reader = Unmanaged<MemoryBox>.fromOpaque(context!).takeUnretainedValue().memory
                    return reader.read(address, into: UnsafeMutableRawBufferPointer(start: destination, count: Int(size))) ? 0 : -14
                }, read_context: box.toOpaque())
                _ = pyro_python_walk_thread(&walker, SyntheticImage.threadID, sample)
            }
            XCTAssertEqual(sample.pointee.python_status, PYRO_PYTHON_OK.rawValue, build.binary)
            let count = Int(sample.pointee.python_frame_count)
            let records: [pyro_python_frame] = withUnsafeBytes(of: &sample.pointee.stacks) { raw in
                Array(raw.bindMemory(to: pyro_python_frame.self).prefix(count))
            }
            let symbolizer = PythonSymbolizer(process: process, memory: memory)
            let named = records.filter { $0.code != 0 }.map { record -> String in
                guard let frame = symbolizer.frame(code: record.code, instruction: record.instruction, stamp: record.stamp)
                else { return "?" }
                return "\(frame.name) (\(frame.filename):\(frame.line))"
            }
            XCTAssertEqual(named, frames, "\(build.binary): innermost first")
            XCTAssertEqual(records.last?.code, 0, "\(build.binary): the entry frame's marker")
        }
    }

    /// The free-threaded table of `build`, as CPython initializes it, and
    /// the layout read from it.
    static func layout(_ build: DebianInterpreterLayoutTests.Build, root: String,
                       in directory: URL) throws -> (PythonLayout, PythonVersion) {
        let include = "\(root)/usr/include/\(build.headers)"
        let source = directory.appendingPathComponent("ft_table_\(build.headers).c")
        try """
            #define Py_BUILD_CORE 1
            #include <Python.h>
            #include "internal/pycore_runtime.h"
            #include <stdio.h>
            int main(void) {
                static const _Py_DebugOffsets table = _Py_DebugOffsets_INIT("xdebugpy");
                return fwrite(&table, sizeof table, 1, stdout) == 1 ? 0 : 1;
            }

            """.write(to: source, atomically: true, encoding: .utf8)
        let binary = directory.appendingPathComponent("ft_table_\(build.headers)").path
        let compiled = try TestSupport.run("/usr/bin/gcc", ["-w"] + flags + ["-I", include, "-idirafter", "\(root)/usr/include",
                                                                          "-o", binary, source.path])
        guard compiled.status == 0 else {
            XCTFail("gcc against \(include) failed: \(compiled.stderr)")
            throw CancellationError()
        }
        let output = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.standardOutput = output
        try process.run()
        let bytes = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        let header = try XCTUnwrap(DebugOffsets.header(bytes), "no cookie")
        XCTAssertTrue(header.freeThreaded)
        // The headers are a release's; the table's version is PY_VERSION_HEX.
        let structVersion = try XCTUnwrap(DebugOffsets.structVersion(forVersionHex: header.versionHex))
        XCTAssertEqual(structVersion.name, build.structVersion.name)
        let offsets = try XCTUnwrap(DebugOffsets(bytes, structVersion: structVersion))
        switch DebugOffsetsFamily.layout(from: offsets) {
        case .success(let layout): return (layout, header.version)
        case .failure(let refusal):
            XCTFail("\(build.binary): \(refusal)")
            throw CancellationError()
        }
    }
}

private final class MemoryBox {
    let memory: ImageMemory
    init(_ memory: ImageMemory) { self.memory = memory }
}

/// A thread's stack laid out in memory by a layout: an interpreter with one
/// thread, two Python frames and the entry frame.
private struct SyntheticImage {
    static let head: UInt64 = 0x10000
    static let codeType: UInt64 = 0x9_9000
    static let threadID: UInt64 = 0x7f00_1234_5600
    let layout: PythonLayout
    var regions: [UInt64: [UInt8]] = [:]

    init(layout: PythonLayout) { self.layout = layout }

    var segments: [WalkerImage.Segment] {
        regions.map { WalkerImage.Segment(address: $0.key, hex: RecordingMemory.hex($0.value)) }
    }

    mutating func put(_ value: UInt64, at address: UInt64, width: Int = 8) {
        let base = address & ~0xfff
        var bytes = regions[base] ?? [UInt8](repeating: 0, count: 0x1000)
        for index in 0..<width { bytes[Int(address - base) + index] = UInt8((value >> (8 * UInt64(index))) & 0xff) }
        regions[base] = bytes
    }

    mutating func put(_ data: [UInt8], at address: UInt64) {
        for (index, byte) in data.enumerated() { put(UInt64(byte), at: address + UInt64(index), width: 1) }
    }

    /// A compact ASCII str.
    mutating func string(_ text: String, at address: UInt64) {
        let objects = layout.objects
        put(UInt64(text.utf8.count), at: address + UInt64(objects.unicodeLength))
        // kind 1, compact, ascii: bits 2, 5 and 6 of a GIL build's state.
        put(UInt64(4 | 32 | 64) << UInt64(objects.unicodeStateShift), at: address + UInt64(objects.unicodeState), width: 4)
        guard case let .unicode(asciiData, _) = layout.strings else { return }
        put(Array(text.utf8), at: address + UInt64(asciiData))
    }

    /// A code object at `address` whose location table puts instructions
    /// 0-1 on firstLine + 1 and 2-7 on firstLine + 3.
    mutating func code(_ name: String, at address: UInt64, copies: [UInt64]) {
        put(SyntheticImage.codeType, at: address + UInt64(layout.objects.objectType))
        put(address + 0x400, at: address + UInt64(layout.codeFilename))
        string("/ft.py", at: address + 0x400)
        put(address + 0x500, at: address + UInt64(layout.codeQualname!))
        string(name, at: address + 0x500)
        put(address + 0x600, at: address + UInt64(layout.codeLineTable))
        let table: [UInt8] = [0x80 | 13 << 3 | 1, 0x02, 0x80 | 13 << 3 | 5, 0x04]
        put(UInt64(table.count), at: address + 0x600 + UInt64(layout.objects.bytesSize))
        put(table, at: address + 0x600 + UInt64(layout.objects.bytesData))
        put(10, at: address + UInt64(layout.codeFirstLineNumber), width: 4)
        put(7, at: address + UInt64(layout.codeVersion!), width: 4)
        // co_tlbc: a _PyCodeArray (size, entries[]); entry 0 is co_code_adaptive.
        put(address + 0x700, at: address + UInt64(layout.codeTLBC!))
        put(UInt64(copies.count + 1), at: address + 0x700)
        put(address + UInt64(layout.codeAdaptive!), at: address + 0x708)
        for (index, copy) in copies.enumerated() { put(copy, at: address + 0x710 + 8 * UInt64(index)) }
    }

    mutating func frame(at address: UInt64, executable: UInt64, previous: UInt64, instruction: UInt64, owner: UInt64,
                        copy: UInt64) {
        put(executable, at: address + UInt64(layout.frameCode))
        put(previous, at: address + UInt64(layout.framePrevious))
        put(instruction, at: address + UInt64(layout.frameInstruction))
        put(owner, at: address + UInt64(layout.frameOwner!), width: 1)
        put(copy, at: address + UInt64(layout.frameTLBCIndex!), width: 4)
    }

    /// Lays the stack out; returns its frames as they must be named,
    /// innermost first.
    mutating func build() -> [String] {
        let interpreter: UInt64 = 0x2_0000, thread: UInt64 = 0x3_0000
        let inner: UInt64 = 0x4_0000, outer: UInt64 = 0x4_1000, entry: UInt64 = 0x4_2000
        let innerCode: UInt64 = 0x5_0000, outerCode: UInt64 = 0x6_0000, innerCopy: UInt64 = 0x8_0000
        put(interpreter, at: SyntheticImage.head)
        put(thread, at: interpreter + UInt64(layout.interpreterThreadsHead))
        put(SyntheticImage.threadID, at: thread + UInt64(layout.threadID))
        put(inner, at: thread + UInt64(layout.threadFrame))
        code("ft_inner", at: innerCode, copies: [innerCopy])
        code("ft_outer", at: outerCode, copies: [])
        // The inner frame runs its thread's copy (index 1), at instruction 3;
        // its executable carries a _PyStackRef tag.
        frame(at: inner, executable: innerCode | 1, previous: outer, instruction: innerCopy + 2 * 3, owner: 0, copy: 1)
        frame(at: outer, executable: outerCode, previous: entry,
              instruction: outerCode + UInt64(layout.codeAdaptive!) + 2 * 1, owner: 0, copy: 0)
        frame(at: entry, executable: 0, previous: 0, instruction: 0, owner: 3, copy: 0)
        return ["ft_inner (/ft.py:13)", "ft_outer (/ft.py:11)"]
    }
}
