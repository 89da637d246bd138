import Foundation
import ProcessInspection
import Symbolization
import XCTest

/// /proc/kallsyms: a crafted file for the parser's rules, and the running
/// kernel's for the real thing.
final class KernelSymbolsTests: XCTestCase {
    /// Text (t, T), weak (w, W), data and bss, module symbols after a tab,
    /// upper-case hex, junk lines, and no newline at the end.
    static let crafted = """
        ffffffff81000000 T _stext
        ffffffff81000010 t local_text
        FFFFFFFF81000100 T UpperHex
        ffffffff81000200 W weak_global
        ffffffff81000300 w weak_local
        ffffffff81000400 D data_global
        ffffffff81000500 d data_local
        ffffffff81000600 b bss_local
        ffffffff81000700 B bss_global
        ffffffff81000780 R rodata_global
        ffffffff81000790 r rodata_local
        ffffffff810007a0 A absolute

        not a kallsyms line
        ffffffff81000800 T last_core
        ffffffffc0001000 t module_local\t[pyro_module]
        ffffffffc0001100 T module_global\t[pyro_module]
        ffffffffc0002000 t spaced_module [other_module]
        """

    func testCraftedKallsyms() {
        let symbols = KernelSymbols(parsing: Array(Self.crafted.utf8))
        XCTAssertEqual(symbols.table.symbols.map(\.name), [
            "_stext", "local_text", "UpperHex", "weak_global", "weak_local", "last_core",
            "module_local", "module_global", "spaced_module",
        ], "text and weak symbols only, by address, names without their module")
        XCTAssertEqual(symbols.table.symbols.first { $0.name == "UpperHex" }?.address, 0xffff_ffff_8100_0100)

        let expectations: [(UInt64, String?)] = [
            (0xffff_ffff_8000_0000, nil), // before the first symbol
            (0xffff_ffff_80ff_ffff, nil),
            (0xffff_ffff_8100_0000, "_stext"),
            (0xffff_ffff_8100_0005, "_stext"),
            (0xffff_ffff_8100_0010, "local_text"),
            (0xffff_ffff_8100_00ff, "local_text"),
            (0xffff_ffff_8100_0100, "UpperHex"),
            (0xffff_ffff_8100_0201, "weak_global"),
            (0xffff_ffff_8100_0300, "weak_local"),
            // Data, bss, rodata and absolute symbols do not end a function.
            (0xffff_ffff_8100_0400, "weak_local"),
            (0xffff_ffff_8100_0650, "weak_local"),
            (0xffff_ffff_8100_07a0, "weak_local"),
            (0xffff_ffff_8100_0800, "last_core"),
            (0xffff_ffff_8100_0900, "last_core"),
            (0xffff_ffff_c000_1000, "module_local"),
            (0xffff_ffff_c000_1010, "module_local"),
            (0xffff_ffff_c000_1100, "module_global"),
            (0xffff_ffff_c000_2001, "spaced_module"),
        ]
        for (address, name) in expectations {
            XCTAssertEqual(symbols.name(for: address), name, "0x\(String(address, radix: 16))")
        }
    }

    func testEmptyAndTruncatedInput() {
        XCTAssertTrue(KernelSymbols(parsing: []).table.isEmpty)
        XCTAssertTrue(KernelSymbols(parsing: Array("\n\n".utf8)).table.isEmpty)
        // A line cut off before its name, and one with no type.
        let cut = KernelSymbols(parsing: Array("ffffffff81000000 T\nffffffff81000100\nffffffff81000200 t ok\n".utf8))
        XCTAssertEqual(cut.table.symbols.map(\.name), ["ok"])
    }

    /// Without root (or with kptr_restrict=2) every address reads as zero:
    /// that must be an error, not a table that names nothing.
    func testHiddenAddressesAreAnError() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let hidden = directory.appendingPathComponent("kallsyms")
        try Data("0000000000000000 T schedule\n0000000000000000 t do_sys_openat2\n".utf8).write(to: hidden)
        XCTAssertThrowsError(try KernelSymbols(kallsyms: hidden.path))
        XCTAssertThrowsError(try KernelSymbols(kallsyms: directory.appendingPathComponent("missing").path)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, ENOENT, "\(error)")
        }
        let visible = directory.appendingPathComponent("visible")
        try Data("ffffffff81000000 T schedule\n".utf8).write(to: visible)
        XCTAssertEqual(try KernelSymbols(kallsyms: visible.path).name(for: 0xffff_ffff_8100_0004), "schedule")
    }
}
