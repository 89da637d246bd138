import Foundation
import ProcessInspection
import XCTest

/// /proc/PID/maps read as bytes: every process's map on this host parses
/// to what splitting its lines at spaces gives, and odd lines are handled.
final class MemoryMappingTests: XCTestCase {
    func testEveryMapOnTheHostParsesAsItsFieldsSay() throws {
        var lines = 0
        for pid in try ProcessDirectory.allPIDs() {
            guard let bytes = try? FileReader.bytes("/proc/\(pid)/maps"), !bytes.isEmpty else { continue }
            let text = String(decoding: bytes, as: UTF8.self)
            let expected = text.split(separator: "\n").compactMap(Self.reference)
            XCTAssertEqual(MemoryMapping.parse(maps: bytes), expected, "pid \(pid)")
            lines += expected.count
        }
        XCTAssertGreaterThan(lines, 100, "maps lines read on this host")
    }

    func testPathsWithSpacesPseudoNamesAndBadLines() {
        let maps = """
            7f00a000-7f00b000 r-xp 00001000 fd:01 1234                       /tmp/a b (deleted)
            7ffc1000-7ffc3000 r-xp 00000000 00:00 0                          [vdso]
            7f00c000-7f00d000 rw-p 00000000 00:00 0
            7f00e000 r-xp 00000000 00:00 0 [no end]
            7f00g000-7f00h000 r-xp 00000000 00:00 0 [bad hex]
            10000000000000000-10000000000000001 r-xp 00000000 00:00 0 [too wide]
            7f00f000-7f010000 r-xp 00000000 00:00
            FFFFFFFFFF600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]

            """
        let mappings = MemoryMapping.parse(maps: Array(maps.utf8))
        XCTAssertEqual(mappings, [
            MemoryMapping(start: 0x7f00a000, end: 0x7f00b000, permissions: "r-xp", fileOffset: 0x1000, device: "fd:01",
                          inode: 1234, path: "/tmp/a b (deleted)"),
            MemoryMapping(start: 0x7ffc1000, end: 0x7ffc3000, permissions: "r-xp", fileOffset: 0, device: "00:00", inode: 0,
                          path: "[vdso]"),
            MemoryMapping(start: 0x7f00c000, end: 0x7f00d000, permissions: "rw-p", fileOffset: 0, device: "00:00", inode: 0,
                          path: ""),
            MemoryMapping(start: 0xffffffffff600000, end: 0xffffffffff601000, permissions: "--xp", fileOffset: 0,
                          device: "00:00", inode: 0, path: "[vsyscall]"),
        ])
        XCTAssertEqual(MemoryMapping(line: "7f00a000-7f00b000 r-xp 00001000 fd:01 1234 /lib/x.so"),
                       MemoryMapping(start: 0x7f00a000, end: 0x7f00b000, permissions: "r-xp", fileOffset: 0x1000,
                                     device: "fd:01", inode: 1234, path: "/lib/x.so"))
    }

    /// The line's fields as `split` cuts them: the oracle for the bytes.
    private static func reference(_ line: Substring) -> MemoryMapping? {
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count >= 5 else { return nil }
        let range = fields[0].split(separator: "-")
        guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
              let offset = UInt64(fields[2], radix: 16), let inode = UInt64(fields[4]) else { return nil }
        return MemoryMapping(start: start, end: end, permissions: String(fields[1]), fileOffset: offset,
                             device: String(fields[3]), inode: inode,
                             path: fields.count > 5 ? String(fields[5].drop { $0 == " " }) : "")
    }
}
