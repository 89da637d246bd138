import Foundation
import NativeUnwinding
@testable import PythonRuntime
import Symbolization
import XCTest

/// Inputs that crashed pyrograph (an overflow trap is a crash: root's
/// recording lost to one hostile file or process), each checked in as
/// found by pyrograph-fuzz or by reading the code beside it
/// (`Tests/Fuzz/README.md`), minimized, in `Fixtures/fuzz/`.
final class FuzzRegressionTests: XCTestCase {
    static func fixture(_ name: String) -> String {
        TestSupport.fixtures.appendingPathComponent("fuzz").appendingPathComponent(name).path
    }

    /// p_offset 0x1000 with p_filesz 2^64-1: the segment's end overflowed
    /// while mapping a file offset to an address.
    func testALoadSegmentEndingPastTheAddressSpaceMapsOffsets() throws {
        let file = try ELFFile(path: Self.fixture("elf-segment-end-overflows.elf"))
        XCTAssertEqual(file.segments.count, 1)
        XCTAssertEqual(file.virtualAddress(forFileOffset: 0x2000), 0x401000)
        XCTAssertEqual(file.virtualAddress(forFileOffset: 0x10), 0x10, "below the segment: unchanged")
    }

    /// An executable segment at 0xffff_ffff_ffff_0000 of 128 KiB wraps
    /// around: making its range trapped; it covers nothing real, so it is
    /// left out of the coverage.
    func testAnExecutableSegmentThatWrapsIsIgnored() throws {
        let table = try UnwindTable.compile(elfPath: Self.fixture("elf-executable-segment-wraps.elf"))
        XCTAssertEqual(table.rows.count, 0)
        XCTAssertEqual(table.statistics.executableBytes, 0)
    }

    /// An executable segment of 2^63 bytes: Range<UInt64>.count (an Int) trapped.
    func testAnExecutableSegmentLargerThanIntMaxIsCounted() throws {
        let table = try UnwindTable.compile(elfPath: Self.fixture("elf-executable-segment-past-int-max.elf"))
        XCTAssertEqual(table.statistics.executableBytes, 1 << 63)
        XCTAssertEqual(table.coverage, 0)
    }

    /// 17 long-form entries of a 3.11+ location table, each adding 2^59 - 1
    /// to the line: the running line overflowed. Such a table (read from
    /// another process's memory) is malformed: no line.
    /// pyrograph-fuzz walker (an image's 3.11 layout, mutated): the GIL's
    /// offset in _PyRuntime added to the runtime's address overflowed.
    /// Offsets that run past the address space, or past Int, give no GIL.
    func testAGILOffsetPastTheAddressSpaceGivesNoGIL() throws {
        let layout = try XCTUnwrap(PythonLayoutTable.layout(for: PythonVersion(major: 3, minor: 11, micro: 7)))
        let head = UInt64.max - 0xffff
        XCTAssertNil(GILFields(GILLayout(place: .runtime(offset: Int.max)), layout, interpreterHeadAddress: head))
        XCTAssertNil(GILFields(GILLayout(place: .runtime(offset: -8)), layout, interpreterHeadAddress: head))
        XCTAssertNil(GILFields(GILLayout(place: .runtime(offset: 8), locked: Int.max, lastHolder: 8, size: 64), layout,
                               interpreterHeadAddress: head))
        XCTAssertNil(GILFields(GILLayout(place: .runtime(offset: 8), locked: 0, lastHolder: 8, size: Int.min), layout,
                               interpreterHeadAddress: head))
        XCTAssertNotNil(GILFields(GILLayout(place: .runtime(offset: 8)), layout, interpreterHeadAddress: 0x7f00_0000_1000))
    }

    func testALocationTableWhoseLineOverflowsHasNoLine() throws {
        let table = try Array(Data(contentsOf: URL(fileURLWithPath: Self.fixture("linetable-line-overflows.bin"))))
        XCTAssertEqual(LineTable.line(for: 100, firstLine: 1, table: table, format: .locationTable), nil)
        XCTAssertEqual(LineTable.line(for: 0, firstLine: 1, table: table, format: .locationTable), 1 + (1 << 59) - 1,
                       "the first entry's line is still right")
    }
}
