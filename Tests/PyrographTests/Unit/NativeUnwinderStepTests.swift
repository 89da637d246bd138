import CPyrograph
import CWalkerHarness
import Foundation
import NativeUnwinding
import ProcessInspection
import Symbolization
import XCTest

/// The BPF unwinder's own code, compiled for the host, unwinding a stack a
/// program built without frame pointers recorded of itself: its registers,
/// the stack above them and its memory map. No root, no kernel.
final class NativeUnwinderStepTests: XCTestCase {
    struct RecordedStack {
        var pc: UInt64, sp: UInt64, bp: UInt64
        var stackStart: UInt64
        var stack: [UInt8]
        var mappings: [MemoryMapping]
    }

    func testUnwindsAProgramWithoutFramePointersToStart() throws {
        let recorded = try recordStack()
        let (process, arrays, files) = try tables(for: recorded.mappings)
        let (pcs, status) = unwind(recorded, process: process, tables: arrays)
        let names = pcs.enumerated().map { index, pc in Self.name(pc, isReturn: index > 0, files: files) }
        XCTAssertEqual(status, PYRO_NATIVE_COMPLETE.rawValue, "walk ended early: \(names)")
        XCTAssertEqual(Array(names.prefix(5)), ["record_here", "inner", "middle", "outer", "main"], "\(names)")
        XCTAssertEqual(names.last, "_start", "\(names)")
        XCTAssertTrue(names.contains("__libc_start_main"), "\(names)")
    }

    /// The second walk of the same stack takes its rows from the CPU's row
    /// cache (rows of recently unwound pcs) and must find the same frames.
    func testASecondWalkFromTheRowCacheFindsTheSameFrames() throws {
        let recorded = try recordStack()
        let (process, arrays, _) = try tables(for: recorded.mappings)
        let copy = UnsafeMutablePointer<pyro_unwind_process>.allocate(capacity: 1)
        copy.initialize(to: process.pointee)
        let (first, firstStatus) = unwind(recorded, process: process, tables: arrays)
        // Rows the cache cannot have come from: a walk that searched the
        // tables would now fail.
        var emptied = arrays
        emptied.rows = emptied.rows.map { var row = $0; row.cfa_rule = UInt8(PYRO_CFA_UNSUPPORTED.rawValue); return row }
        let (second, secondStatus) = unwind(recorded, process: copy, tables: emptied, keepRowCache: true)
        XCTAssertEqual(firstStatus, PYRO_NATIVE_COMPLETE.rawValue)
        XCTAssertEqual(second, first)
        XCTAssertEqual(secondStatus, firstStatus)
    }

    /// From a signal handler, through the kernel's signal frame (glibc's
    /// __restore_rt), back to the interrupted code and on to _start.
    func testUnwindsThroughASignalFrame() throws {
        let recorded = try recordStack(throughSignal: true)
        let (process, arrays, files) = try tables(for: recorded.mappings)
        let (pcs, status) = unwind(recorded, process: process, tables: arrays)
        // After a signal frame the pc is the interrupted instruction, not a
        // return address; naming it one byte early is harmless here.
        let names = pcs.enumerated().map { index, pc in Self.name(pc, isReturn: index > 0, files: files) }
        XCTAssertEqual(status, PYRO_NATIVE_COMPLETE.rawValue, "walk ended early: \(names)")
        XCTAssertEqual(Array(names.prefix(2)), ["record_here", "on_signal"], "\(names)")
        let innerIndex = try XCTUnwrap(names.firstIndex(of: "inner"), "\(names)")
        XCTAssertEqual(Array(names[innerIndex...].prefix(4)), ["inner", "middle", "outer", "main"], "\(names)")
        XCTAssertEqual(names.last, "_start", "\(names)")
    }

    /// Without tables for the program, the walk cannot pass its first frame
    /// (no frame pointers to fall back on), and says so.
    func testWithoutCFIItStopsAndSaysWhy() throws {
        let recorded = try recordStack()
        let (process, arrays, _) = try tables(for: recorded.mappings, omitting: "self_dump")
        let (pcs, status) = unwind(recorded, process: process, tables: arrays)
        XCTAssertLessThanOrEqual(pcs.count, 2)
        XCTAssertNotEqual(status, PYRO_NATIVE_COMPLETE.rawValue)
    }

    /// The unwinder's row lookup (page index, then a search of one page's
    /// rows) finds the same row as a plain search of the whole table, at
    /// every row's first byte, the bytes around it, and outside the table.
    func testRowLookupThroughThePageIndexMatchesAFullSearch() throws {
        for path in ["/lib/x86_64-linux-gnu/libc.so.6", "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0",
                     "/usr/bin/python3.11"] {
            let table = try UnwindTable.compile(elfPath: path)
            let index = UnwindPageIndex(rows: table.rows)
            var mapping = pyro_unwind_mapping()
            mapping.table_count = UInt32(table.rows.count)
            mapping.page_count = UInt32(index.pages.count)
            mapping.first_page_pc = index.firstPagePC
            let arrays = UnwindArrays(rows: table.rows, pages: index.pages)
            var probes = Set<UInt32>([0, index.firstPagePC, table.rows.last!.pc &+ 5000, .max])
            for row in table.rows { probes.formUnion([row.pc &- 1, row.pc, row.pc &+ 1]) }
            var mismatches: [String] = []
            arrays.withBuffers { rows, pages in
                for pc in probes {
                    let found = pyro_harness_find_row(&mapping, rows.baseAddress, UInt32(rows.count), pages.baseAddress,
                                                      UInt32(pages.count), pc)
                    let expected = table.row(for: pc)?.pc
                    let actual = found < 0 ? nil : rows[Int(found)].pc
                    if actual != expected && mismatches.count < 5 {
                        mismatches.append("pc 0x\(String(pc, radix: 16)): found \(actual.map { String($0, radix: 16) } ?? "none"), "
                            + "expected \(expected.map { String($0, radix: 16) } ?? "none")")
                    }
                }
            }
            XCTAssertEqual(mismatches, [], path)
            XCTAssertGreaterThan(probes.count, 10_000, path)
        }
    }

    // MARK: - Recording and replaying

    private func recordStack(throughSignal: Bool = false) throws -> RecordedStack {
        let directory = try TestSupport.temporaryDirectory()
        let binary = directory.appendingPathComponent("self_dump")
        let compiled = try TestSupport.run("/usr/bin/gcc", ["-O2", "-fomit-frame-pointer", "-o", binary.path,
                                                            TestSupport.fixtures.appendingPathComponent("native/self_dump.c").path])
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        let dump = directory.appendingPathComponent("stack.bin")
        let ran = try TestSupport.run(binary.path, [dump.path] + (throughSignal ? ["signal"] : []))
        XCTAssertEqual(ran.status, 0, ran.stderr)
        let bytes = [UInt8](try Data(contentsOf: dump))
        func word(_ index: Int) -> UInt64 { bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) } }
        let length = Int(word(4))
        let stack = Array(bytes[40..<40 + length])
        let maps = String(decoding: bytes[(40 + length)...], as: UTF8.self)
        return RecordedStack(pc: word(0), sp: word(1), bp: word(2), stackStart: word(3), stack: stack,
                             mappings: maps.split(separator: "\n").compactMap(MemoryMapping.init(line:)))
    }

    /// The loader's work for one process, done by hand: compile each
    /// executable file's CFI, concatenate, and list the mappings.
    private func tables(for mappings: [MemoryMapping], omitting omitted: String? = nil) throws
        -> (UnsafeMutablePointer<pyro_unwind_process>, UnwindArrays, [(MemoryMapping, ELFFile, UInt64)]) {
        var arrays = UnwindArrays()
        var entries: [pyro_unwind_mapping] = []
        var files: [(MemoryMapping, ELFFile, UInt64)] = []
        for mapping in mappings where mapping.isExecutable && mapping.isFileBacked {
            let first = mappings.filter { $0.fileKey == mapping.fileKey }.map(\.start).min()!
            let bias = first &- (try ELFFile.lowestLoadAddress(path: mapping.path) & ~0xfff)
            files.append((mapping, try ELFFile(path: mapping.path), bias))
            var table: [pyro_unwind_row] = []
            if omitted.map({ !mapping.path.hasSuffix($0) }) ?? true {
                table = try UnwindTable.compile(elfPath: mapping.path).rows
            }
            let index = UnwindPageIndex(rows: table)
            entries.append(pyro_unwind_mapping(start: mapping.start, end: mapping.end, bias: bias,
                                               table_start: UInt32(arrays.rows.count), table_count: UInt32(table.count),
                                               pages_start: UInt32(arrays.pages.count), page_count: UInt32(index.pages.count),
                                               first_page_pc: index.firstPagePC, reserved: 0))
            arrays.rows += table
            arrays.pages += index.pages
        }
        let process = UnsafeMutablePointer<pyro_unwind_process>.allocate(capacity: 1)
        process.initialize(to: pyro_unwind_process())
        process.pointee.count = UInt32(entries.count)
        withUnsafeMutableBytes(of: &process.pointee.mappings) { raw in
            for (index, entry) in entries.sorted(by: { $0.start < $1.start }).enumerated() {
                raw.bindMemory(to: pyro_unwind_mapping.self)[index] = entry
            }
        }
        return (process, arrays, files)
    }

    private func unwind(_ recorded: RecordedStack, process: UnsafeMutablePointer<pyro_unwind_process>,
                        tables: UnwindArrays, keepRowCache: Bool = false) -> ([UInt64], UInt32) {
        let sample = UnsafeMutablePointer<pyro_sample>.allocate(capacity: 1)
        sample.initialize(to: pyro_sample())
        defer { sample.deallocate(); process.deallocate() }
        let stack = StackBox(start: recorded.stackStart, bytes: recorded.stack)
        let context = Unmanaged.passRetained(stack)
        defer { context.release() }
        let count = tables.withBuffers { rows, pages in
            pyro_harness_unwind_native(process, rows.baseAddress, UInt32(rows.count), pages.baseAddress, UInt32(pages.count),
                                       recorded.pc, recorded.sp, recorded.bp, sample, { context, destination, size, address in
                let stack = Unmanaged<StackBox>.fromOpaque(context!).takeUnretainedValue()
                guard address >= stack.start, address - stack.start + UInt64(size) <= UInt64(stack.bytes.count) else { return -14 }
                let offset = Int(address - stack.start)
                stack.bytes.withUnsafeBytes { destination!.copyMemory(from: $0.baseAddress! + offset, byteCount: Int(size)) }
                return 0
            }, context.toOpaque(), keepRowCache)
        }
        // Nothing precedes the user pcs: the harness sample has no kernel pcs.
        let pcs = withUnsafeBytes(of: &sample.pointee.stacks) { raw in
            Array(raw.bindMemory(to: UInt64.self).prefix(Int(count)))
        }
        return (pcs, sample.pointee.native_status)
    }

    static func name(_ pc: UInt64, isReturn: Bool, files: [(MemoryMapping, ELFFile, UInt64)]) -> String {
        let lookup = isReturn ? pc - 1 : pc
        guard let (mapping, file, bias) = files.first(where: { $0.0.contains(lookup) }) else { return "?" }
        return file.symbols.lookup(lookup - bias)?.symbol.name ?? "\((mapping.path as NSString).lastPathComponent)+0x\(String(lookup - bias, radix: 16))"
    }
}

private final class StackBox {
    let start: UInt64
    let bytes: [UInt8]
    init(start: UInt64, bytes: [UInt8]) { self.start = start; self.bytes = bytes }
}

/// The kernel's two unwind arrays, as the loader would fill them.
struct UnwindArrays {
    var rows: [pyro_unwind_row] = []
    var pages: [pyro_unwind_page] = []

    func withBuffers<R>(_ body: (UnsafeBufferPointer<pyro_unwind_row>, UnsafeBufferPointer<pyro_unwind_page>) -> R) -> R {
        rows.withUnsafeBufferPointer { rows in pages.withUnsafeBufferPointer { pages in body(rows, pages) } }
    }
}
