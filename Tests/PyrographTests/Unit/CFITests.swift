import CPyrograph
import Foundation
import NativeUnwinding
import Symbolization
import XCTest

/// The unwind-table compiler against readelf's own interpretation of the
/// CFI (`--debug-dump=frames-interp`) of real libraries and of a fixture
/// written to reach the rare instructions: at the first and last byte of
/// every row readelf prints, the compiled row must say the same. Hand-built
/// sections cover encodings no linker here produces.
final class CFITests: XCTestCase {
    static let libraries = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0",
        "/root/.pyenv/versions/3.10.13/lib/libpython3.10.so.1.0",
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/bin/python3.11",
    ]

    // MARK: Real libraries

    func testEveryReadelfRowMatchesInRealLibraries() throws {
        for path in Self.libraries {
            guard FileManager.default.fileExists(atPath: path) else {
                XCTFail("library missing: \(path); these tests need it installed")
                continue
            }
            let table = try UnwindTable.compile(elfPath: path)
            let checked = try ReadelfComparison.check(table, against: path)
            print("CFI \(path): \(checked) readelf rows compared at their first and last byte")
            XCTAssertGreaterThan(checked, 1000, "too few readelf rows compared in \(path)")
        }
    }

    func testCoverageAndSizes() throws {
        for path in Self.libraries {
            guard FileManager.default.fileExists(atPath: path) else {
                XCTFail("library missing: \(path)")
                continue
            }
            let table = try UnwindTable.compile(elfPath: path)
            let stats = table.statistics
            print(String(format: "CFI %@: %d FDEs, %d rows, %d bytes, coverage %.4f, rules %@", path, stats.fdeCount,
                         stats.rowCount, stats.byteCount, stats.coverage, String(describing: stats.rowsByRule.sorted { $0.key < $1.key })))
            XCTAssertEqual(stats.byteCount, stats.rowCount * 16)
            XCTAssertEqual(stats.malformedFDEs, 0, path)
            XCTAssertEqual(stats.skippedFDEs, 0, path)
            XCTAssertGreaterThanOrEqual(table.coverage, 0.95, path)
            XCTAssertTrue(zip(table.rows, table.rows.dropFirst()).allSatisfy { $0.pc < $1.pc }, "rows not sorted: \(path)")
            XCTAssertFalse(zip(table.rows, table.rows.dropFirst()).contains { Self.sameRules($0, $1) },
                           "neighbours with the same rules: \(path)")
        }
    }

    /// Every byte of every lazy PLT stub unwinds with the PLT rule; PLT0
    /// (push, then jump) with plain rsp offsets.
    func testPLTStubs() throws {
        for path in Self.libraries {
            let table = try UnwindTable.compile(elfPath: path)
            let sections = try ReadelfComparison.sections(of: path)
            guard let plt = sections[".plt"] else {
                XCTFail("no .plt in \(path)")
                continue
            }
            XCTAssertEqual(Self.describe(table.row(for: UInt32(plt.lowerBound))), "rsp+16", path)
            XCTAssertEqual(Self.describe(table.row(for: UInt32(plt.lowerBound + 6))), "rsp+24", path)
            XCTAssertEqual(Self.describe(table.row(for: UInt32(plt.lowerBound + 15))), "rsp+24", path)
            for stub in stride(from: plt.lowerBound + 16, to: plt.upperBound, by: 16) {
                for pc in [stub, stub + 10, stub + 11, stub + 15] {
                    XCTAssertEqual(Self.describe(table.row(for: UInt32(pc))), "plt11",
                                   "\(path) pc 0x\(String(pc, radix: 16))")
                }
            }
            if let second = sections[".plt.sec"] {
                for pc in stride(from: second.lowerBound, to: second.upperBound, by: 8) {
                    XCTAssertNotEqual(table.row(for: UInt32(pc))?.cfa_rule, UInt8(PYRO_CFA_NONE.rawValue), path)
                }
            }
        }
    }

    func testCompileTimeOfLibpython313() throws {
        let path = "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0"
        _ = try UnwindTable.compile(elfPath: path)
        let start = DispatchTime.now()
        let table = try UnwindTable.compile(elfPath: path)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        print(String(format: "CFI compile of libpython3.13: %.3f s for %d rows", seconds, table.rows.count))
        XCTAssertGreaterThan(table.rows.count, 50_000)
    }

    func testMissingFileIsAnError() {
        XCTAssertThrowsError(try UnwindTable.compile(elfPath: "/nonexistent/libnothing.so"))
        XCTAssertThrowsError(try UnwindTable.compile(elfPath: #filePath)) { error in
            guard case UnwindTableError.notELF = error else { return XCTFail("\(error)") }
        }
    }

    // MARK: The assembly fixture

    func testFixtureMatchesReadelf() throws {
        let binary = try Self.buildFixture()
        let table = try UnwindTable.compile(elfPath: binary.path)
        let checked = try ReadelfComparison.check(table, against: binary.path)
        XCTAssertGreaterThan(checked, 50)
    }

    func testFixtureRowsByHand() throws {
        let binary = try Self.buildFixture()
        let table = try UnwindTable.compile(elfPath: binary.path)
        let symbols = try Self.symbols(of: binary)
        func rows(of name: String, upTo end: String) -> [String] {
            let low = UInt32(symbols[name]!), high = UInt32(symbols[end]!)
            let before = table.row(for: low).map { [Self.describe($0, withPC: true)] } ?? []
            return before + table.rows.filter { $0.pc > low && $0.pc < high }.map { Self.describe($0, withPC: true) }
        }
        func hex(_ name: String, _ delta: UInt64 = 0) -> String { String(symbols[name]! + delta, radix: 16) }

        // _start: the CIE's own DW_CFA_undefined rip; then a 13-byte gap.
        XCTAssertEqual(rows(of: "_start", upTo: "remember_restore"), ["\(hex("_start")) end", "\(hex("_start", 13)) none"])
        XCTAssertEqual(rows(of: "remember_restore", upTo: "frame_pointer"), [
            "\(hex("remember_restore")) rsp+8", "\(hex("remember_restore", 1)) rsp+16",
            "\(hex("remember_restore", 7)) rsp+8", "\(hex("remember_restore", 8)) rsp+16",
            "\(hex("remember_restore", 9)) rsp+24 rbp=c-24", "\(hex("remember_restore", 10)) rsp+16",
            "\(hex("remember_restore", 11)) rsp+24 rbp=c-24", "\(hex("remember_restore", 12)) rsp+16",
            "\(hex("remember_restore", 13)) rsp+8",
        ])
        // advance_loc2 and advance_loc4 (over 70300 bytes of nops); the
        // first row is merged into the last of remember_restore.
        XCTAssertEqual(rows(of: "frame_pointer", upTo: "realigned"), [
            "\(hex("remember_restore", 13)) rsp+8", "\(hex("frame_pointer", 1)) rsp+16 rbp=c-16",
            "\(hex("frame_pointer", 4)) rbp+16 rbp=c-16", "\(hex("frame_pointer", 70_305)) rsp+8 rbp=c-16",
            "\(hex("frame_pointer", 70_306)) none",
        ])
        // CFA in r10, then an expression: unsupported until the CFA is rsp-based again.
        XCTAssertEqual(rows(of: "realigned", upTo: "signal_trampoline"), [
            "\(hex("realigned")) rsp+8", "\(hex("realigned", 5)) unsupported", "\(hex("realigned", 27)) rsp+8",
            "\(hex("realigned", 28)) none", String(symbols["signal_trampoline"]! - 1, radix: 16) + " unsupported",
        ])
        XCTAssertEqual(rows(of: "signal_trampoline", upTo: "fake_plt").first,
                       String(symbols["signal_trampoline"]! - 1, radix: 16) + " unsupported")
        XCTAssertEqual(Self.describe(table.row(for: UInt32(symbols["signal_trampoline"]! - 1))), "unsupported")
        XCTAssertEqual(rows(of: "fake_plt", upTo: "odd_rules"), [
            "\(hex("fake_plt")) rsp+16", "\(hex("fake_plt", 6)) rsp+24", "\(hex("fake_plt", 16)) plt11",
            "\(hex("fake_plt", 48)) plt10", "\(hex("fake_plt", 64)) unsupported",
        ])
        XCTAssertEqual(rows(of: "odd_rules", upTo: "with_indirect_personality"), [
            "\(hex("odd_rules")) rsp+8 rbp=c+16", "\(hex("odd_rules", 1)) rsp+8 rbp=c+24",
            "\(hex("odd_rules", 2)) rsp+8 rbp=c-32", "\(hex("odd_rules", 3)) rsp+8 rbp=u",
            "\(hex("odd_rules", 6)) rsp+8", "\(hex("odd_rules", 7)) rsp+24", "\(hex("odd_rules", 8)) rbp+32",
            "\(hex("odd_rules", 9)) rsp+40000", "\(hex("odd_rules", 10)) unsupported",
            "\(hex("odd_rules", 12)) rsp+8 rbp=u", "\(hex("odd_rules", 13)) rsp+8 rbp=c-32768",
            "\(hex("odd_rules", 14)) rsp+8 rbp=c-32776", "\(hex("odd_rules", 15)) unsupported",
        ])
        // Functions only in .debug_frame (compressed) are compiled too.
        XCTAssertEqual(rows(of: "debug_only", upTo: "debug_only_leaf"), [
            "\(hex("debug_only")) rsp+8", "\(hex("debug_only", 1)) rsp+16 rbp=c-16",
            "\(hex("debug_only", 4)) rbp+16 rbp=c-16", "\(hex("debug_only", 6)) rsp+8 rbp=c-16",
        ])
        XCTAssertEqual(Self.describe(table.row(for: UInt32(symbols["fixture_personality"]!))), "none")
        XCTAssertNil(table.row(for: UInt32(symbols["_start"]! - 1)))
    }

    func testFixturePersonalityAndLSDAPointers() throws {
        let binary = try Self.buildFixture()
        let symbols = try Self.symbols(of: binary)
        let sections = try ReadelfComparison.sections(of: binary.path)
        let ehFrame = try XCTUnwrap(sections[".eh_frame"])
        let bytes = try XCTUnwrap(ELFFile.sectionData(path: binary.path, named: ".eh_frame"))
        let entries = try CFISection(kind: .ehFrame, address: ehFrame.lowerBound, bytes: bytes).entries()
        func fde(at name: String) throws -> FrameDescriptionEntry {
            try XCTUnwrap(entries.fdes.first { $0.initialLocation == symbols[name]! }, name)
        }
        let cases: [(function: String, personality: String, encoding: UInt8, lsda: String)] = [
            ("with_indirect_personality", "DW.ref.fixture_personality", 0x9b, "fixture_lsda_1"),
            ("with_udata4_personality", "fixture_personality", 0x03, "fixture_lsda_2"),
            ("with_absptr_personality", "fixture_personality", 0x00, "fixture_lsda_3"),
        ]
        for (function, personality, encoding, lsda) in cases {
            let entry = try fde(at: function)
            let cie = try XCTUnwrap(entries.cies[entry.cieOffset])
            XCTAssertEqual(cie.augmentation, "zPLR", function)
            XCTAssertEqual(cie.personalityEncoding?.rawValue, encoding, function)
            XCTAssertEqual(cie.personality, symbols[personality], function)
            XCTAssertEqual(cie.personalityEncoding?.isIndirect, encoding == 0x9b, function)
            XCTAssertEqual(entry.lsda, symbols[lsda], function)
            XCTAssertEqual(entry.endLocation, symbols[function]! + 3, function)
        }
        let trampoline = try XCTUnwrap(entries.fdes.first { $0.initialLocation == symbols["signal_trampoline"]! - 1 })
        let signalCIE = try XCTUnwrap(entries.cies[trampoline.cieOffset])
        XCTAssertEqual(signalCIE.augmentation, "zRS")
        XCTAssertTrue(signalCIE.isSignalFrame)
        XCTAssertEqual(signalCIE.codeAlignmentFactor, 1)
        XCTAssertEqual(signalCIE.dataAlignmentFactor, -8)
        XCTAssertEqual(signalCIE.returnAddressRegister, 16)
    }

    // MARK: Hand-built sections

    func testRememberAndRestoreState() throws {
        // push rbp; remember; pop (CFA 8, rbp restored); ret; restore: back
        // to CFA 16 with rbp saved; one more row.
        let table = try Self.compile(cie: Self.standardCIE, fdes: [(0x1000, 0x20, [
            0x41, 0x0e, 0x10, 0x86, 0x02, // advance 1; def_cfa_offset 16; offset rbp, cfa-16
            0x0a, 0x44, 0x0e, 0x08, 0xc6, // remember; advance 4; def_cfa_offset 8; restore rbp
            0x41, 0x0b, // advance 1; restore_state
            0x42, 0x0a, 0x0e, 0x18, 0x41, 0x0b, 0x0b, // nested: remember, change, advance, restore (twice: underflow)
        ])])
        XCTAssertEqual(table.rows.map { Self.describe($0, withPC: true) }, [
            "1000 unsupported", "1020 none",
        ], "a restore_state without a remembered state makes the whole FDE unsupported")
        XCTAssertEqual(table.statistics.malformedFDEs, 1)

        let good = try Self.compile(cie: Self.standardCIE, fdes: [(0x1000, 0x20, [
            0x41, 0x0e, 0x10, 0x86, 0x02, 0x0a, 0x44, 0x0e, 0x08, 0xc6, 0x41, 0x0b,
            0x42, 0x0a, 0x0e, 0x18, 0x41, 0x0b,
        ])])
        XCTAssertEqual(good.rows.map { Self.describe($0, withPC: true) }, [
            "1000 rsp+8", "1001 rsp+16 rbp=c-16", "1005 rsp+8", "1006 rsp+16 rbp=c-16", "1008 rsp+24 rbp=c-16",
            "1009 rsp+16 rbp=c-16", "1020 none",
        ])
    }

    func testAdvanceLocWidthsAndCodeAlignment() throws {
        var cie = Self.standardCIE
        cie.codeAlignment = 4
        let table = try Self.compile(cie: cie, fdes: [(0x10_0000, 0x80_0000, [
            0x0e, 0x10, 0x02, 0x03, // def_cfa_offset 16; advance_loc1 3*4
            0x0e, 0x18, 0x03, 0x00, 0x01, // def_cfa_offset 24; advance_loc2 256*4
            0x0e, 0x20, 0x04, 0x00, 0x00, 0x01, 0x00, // def_cfa_offset 32; advance_loc4 65536*4
            0x0e, 0x28, 0x01, 0x00, 0x00, 0x60, 0x00, // def_cfa_offset 40; set_loc 0x600000 (pcrel sdata4, fixed below)
            0x0e, 0x30,
        ])], setLocTarget: 0x60_0000)
        XCTAssertEqual(table.rows.map { Self.describe($0, withPC: true) }, [
            "100000 rsp+16", "10000c rsp+24", "10040c rsp+32", "14040c rsp+40", "600000 rsp+48", "900000 none",
        ])
    }

    func testCFAExpressionsOtherThanThePLTAreUnsupported() throws {
        let plt: [UInt8] = [0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22]
        var almost = plt
        almost[1] = 0x10 // DW_OP_breg7 16
        let table = try Self.compile(cie: Self.standardCIE, fdes: [
            (0x2000, 0x10, [0x0f, UInt8(plt.count)] + plt),
            (0x2010, 0x10, [0x0f, UInt8(almost.count)] + almost),
            (0x2020, 0x10, [0x0f, 0x02, 0x77, 0x08]), // DW_OP_breg7 8: equal to rsp+8, yet an expression
            (0x2030, 0x10, [0x0f, UInt8(plt.count)] + plt + [0x0c, 0x07, 0x08]), // then def_cfa rsp, 8
        ])
        XCTAssertEqual(table.rows.map { Self.describe($0, withPC: true) }, [
            "2000 plt11", "2010 unsupported", "2030 rsp+8", "2040 none",
        ])
        // def_cfa_offset after an expression is invalid: the FDE is unsupported.
        let invalid = try Self.compile(cie: Self.standardCIE, fdes: [(0x3000, 0x10, [0x0f, 0x02, 0x77, 0x08, 0x41, 0x0e, 0x10])])
        XCTAssertEqual(invalid.rows.map { Self.describe($0, withPC: true) }, ["3000 unsupported", "3010 none"])
    }

    func testGapsMergingAndOverlaps() throws {
        let table = try Self.compile(cie: Self.standardCIE, fdes: [
            (0x1000, 0x10, [0x41, 0x0e, 0x10]), // rows 1000 rsp+8, 1001 rsp+16
            (0x1010, 0x10, []), // meets: 1010 rsp+8
            (0x1020, 0x10, []), // same rules as the row before: merged away
            (0x1040, 0x08, []), // after a gap
            (0x1044, 0x08, [0x0e, 0x10]), // overlaps the previous: skipped
            (0x1050, 0x00, [0x0e, 0x10]), // empty: skipped
        ])
        XCTAssertEqual(table.rows.map { Self.describe($0, withPC: true) }, [
            "1000 rsp+8", "1001 rsp+16", "1010 rsp+8", "1030 none", "1040 rsp+8", "1048 none",
        ])
        XCTAssertEqual(table.statistics.fdeCount, 4)
        XCTAssertEqual(table.statistics.skippedFDEs, 2)
        XCTAssertEqual(table.statistics.coveredBytes, 0x38)
        XCTAssertEqual(table.statistics.executableBytes, 0x100)
        XCTAssertEqual(Self.describe(table.row(for: 0x1100)), "none")
        XCTAssertNil(table.row(for: 0xfff))
    }

    func testRegisterRulesOfTheReturnAddressAndRBP() throws {
        let table = try Self.compile(cie: Self.standardCIE, fdes: [(0x1000, 0x10, [
            0x86, 0x02, 0x41, // rbp at cfa-16
            0x08, 0x06, 0x41, // same_value rbp
            0x07, 0x06, 0x41, // undefined rbp
            0x14, 0x06, 0x02, 0x41, // val_offset rbp
            0xc6, 0x07, 0x10, 0x41, // restore rbp; undefined rip: end
            0x90, 0x01, 0x41, // rip at cfa-8 again
            0x90, 0x02, 0x41, // rip at cfa-16: unsupported
            0xd0, 0x09, 0x10, 0x00, 0x41, // restore rip; rip in rax: unsupported
        ])])
        XCTAssertEqual(table.rows.map { Self.describe($0, withPC: true) }, [
            "1000 rsp+8 rbp=c-16", "1001 rsp+8", "1002 rsp+8 rbp=u", "1004 end", "1005 rsp+8",
            "1006 unsupported", "1010 none",
        ])
    }

    func testFDEPointerEncodings() throws {
        // udata4, sdata8, datarel sdata4, textrel udata2, absptr, uleb128, aligned
        let cases: [(encoding: UInt8, start: [UInt8], range: [UInt8], expected: UInt64)] = [
            (0x03, Self.le(0x4000, 4), Self.le(0x10, 4), 0x4000),
            (0x0c, Self.le(0x4000, 8), Self.le(0x10, 8), 0x4000),
            (0x3b, Self.le(0x100, 4), Self.le(0x10, 4), 0x9100), // GOT at 0x9000
            (0x22, Self.le(0x40, 2), Self.le(0x10, 2), 0x3040), // .text at 0x3000
            (0x00, Self.le(0x4000, 8), Self.le(0x10, 8), 0x4000),
            (0x01, [0x80, 0x80, 0x01], [0x10], 0x4000),
            // pcrel sdata8: relative to the field, at byte 32 of a section at 0x500
            (0x1c, Self.le(UInt64(bitPattern: Int64(0x4000 - 0x500 - 32)), 8), Self.le(0x10, 8), 0x4000),
            (0x1c, Self.le(UInt64(bitPattern: Int64(0x100 - 0x500 - 32)), 8), Self.le(0x10, 8), 0x100),
        ]
        for (encoding, start, range, expected) in cases {
            var builder = CFIBuilder(kind: .ehFrame)
            let cie = builder.cie(augmentation: "zR", augmentationData: [encoding], instructions: [0x0c, 0x07, 0x08, 0x90, 0x01])
            builder.fde(cie: cie, raw: start + range, augmentationData: [], instructions: [0x41, 0x0e, 0x10])
            let section = CFISection(kind: .ehFrame, address: 0x500, bytes: builder.bytes, textBase: 0x3000, dataBase: 0x9000)
            let entries = try section.entries()
            XCTAssertEqual(entries.fdes.first?.initialLocation, expected, "encoding 0x\(String(encoding, radix: 16))")
            XCTAssertEqual(entries.fdes.first?.addressRange, 0x10, "encoding 0x\(String(encoding, radix: 16))")
        }
    }

    func testDebugFrameFormats() throws {
        // A 64-bit DWARF .debug_frame with a version 4 CIE (address and
        // segment sizes), a version 3 CIE (ULEB return-address column), and
        // a 32-bit version 1 CIE, each with one FDE.
        var builder = CFIBuilder(kind: .debugFrame)
        let cie4 = builder.cie(version: 4, dwarf64: true, augmentation: "", instructions: [0x0c, 0x07, 0x08, 0x90, 0x01])
        builder.fde(cie: cie4, dwarf64: true, raw: Self.le(0x7000, 8) + Self.le(0x10, 8), instructions: [0x41, 0x0e, 0x10])
        let cie3 = builder.cie(version: 3, augmentation: "", instructions: [0x0c, 0x07, 0x08, 0x90, 0x01])
        builder.fde(cie: cie3, raw: Self.le(0x7010, 8) + Self.le(0x10, 8), instructions: [0x42, 0x0e, 0x18])
        let cie1 = builder.cie(version: 1, augmentation: "", instructions: [0x0c, 0x07, 0x08, 0x90, 0x01])
        builder.fde(cie: cie1, raw: Self.le(0x7020, 8) + Self.le(0x10, 8), instructions: [0x43, 0x0c, 0x06, 0x10])
        let section = CFISection(kind: .debugFrame, address: 0, bytes: builder.bytes)
        let entries = try section.entries()
        XCTAssertEqual(entries.cies.values.map(\.version).sorted(), [1, 3, 4])
        let table = try UnwindTable.compile(sections: [section], executableRanges: [0x7000..<0x7030])
        XCTAssertEqual(table.rows.map { Self.describe($0, withPC: true) }, [
            "7000 rsp+8", "7001 rsp+16", "7010 rsp+8", "7012 rsp+24", "7020 rsp+8", "7023 rbp+16", "7030 none",
        ])
        XCTAssertEqual(table.coverage, 1)
    }

    func testEhFrameWinsOverDebugFrame() throws {
        var eh = CFIBuilder(kind: .ehFrame)
        let ehCIE = eh.cie(augmentation: "zR", augmentationData: [0x03], instructions: [0x0c, 0x07, 0x08, 0x90, 0x01])
        eh.fde(cie: ehCIE, raw: Self.le(0x1000, 4) + Self.le(0x10, 4), augmentationData: [], instructions: [0x41, 0x0e, 0x10])
        var debug = CFIBuilder(kind: .debugFrame)
        let debugCIE = debug.cie(version: 1, augmentation: "", instructions: [0x0c, 0x07, 0x08, 0x90, 0x01])
        debug.fde(cie: debugCIE, raw: Self.le(0x1000, 8) + Self.le(0x10, 8), instructions: [0x42, 0x0e, 0x20])
        debug.fde(cie: debugCIE, raw: Self.le(0x1010, 8) + Self.le(0x10, 8), instructions: [0x42, 0x0e, 0x20])
        let table = try UnwindTable.compile(sections: [
            CFISection(kind: .ehFrame, address: 0, bytes: eh.bytes),
            CFISection(kind: .debugFrame, address: 0, bytes: debug.bytes),
        ], executableRanges: [])
        XCTAssertEqual(table.rows.map { Self.describe($0, withPC: true) }, [
            "1000 rsp+8", "1001 rsp+16", "1010 rsp+8", "1012 rsp+32", "1020 none",
        ])
        XCTAssertEqual(table.statistics.skippedFDEs, 1)
    }

    func testAddressesBeyond32BitsAreAnError() {
        var builder = CFIBuilder(kind: .ehFrame)
        let cie = builder.cie(augmentation: "zR", augmentationData: [0x04], instructions: [0x0c, 0x07, 0x08, 0x90, 0x01])
        builder.fde(cie: cie, raw: Self.le(0x1_0000_0000, 8) + Self.le(0x10, 8), augmentationData: [], instructions: [])
        XCTAssertThrowsError(try UnwindTable.compile(sections: [CFISection(kind: .ehFrame, address: 0, bytes: builder.bytes)],
                                                     executableRanges: [])) { error in
            XCTAssertEqual(error as? UnwindTableError, .addressTooLarge(path: "<memory>", address: 0x1_0000_0000))
        }
    }

    func testTruncatedSectionIsAnError() {
        var builder = CFIBuilder(kind: .ehFrame)
        _ = builder.cie(augmentation: "zR", augmentationData: [0x1b], instructions: [0x0c, 0x07, 0x08])
        let truncated = Array(builder.bytes.dropLast(3))
        XCTAssertThrowsError(try CFISection(kind: .ehFrame, address: 0, bytes: truncated).entries())
    }
}

// MARK: - Helpers

extension CFITests {
    struct CIESpec {
        var codeAlignment: UInt64 = 1
        var instructions: [UInt8] = [0x0c, 0x07, 0x08, 0x90, 0x01] // def_cfa rsp, 8; rip at cfa-8
    }

    static let standardCIE = CIESpec()

    /// One .eh_frame with a "zR" CIE (pcrel sdata4) at address 0x100 and
    /// the given FDEs (start, length, instructions). A DW_CFA_set_loc in
    /// the instructions, written 01 00 00 60 00, gets its pcrel value fixed
    /// to `setLocTarget`.
    static func compile(cie spec: CIESpec, fdes: [(UInt64, UInt64, [UInt8])], setLocTarget: UInt64? = nil) throws -> UnwindTable {
        let sectionAddress: UInt64 = 0x100
        var builder = CFIBuilder(kind: .ehFrame)
        let cie = builder.cie(augmentation: "zR", codeAlignment: spec.codeAlignment, augmentationData: [0x1b],
                              instructions: spec.instructions)
        for (start, length, instructions) in fdes {
            builder.fdePCRelative(cie: cie, sectionAddress: sectionAddress, start: start, length: length,
                                  instructions: instructions, setLocTarget: setLocTarget)
        }
        let low = fdes.map(\.0).min() ?? 0
        return try UnwindTable.compile(sections: [CFISection(kind: .ehFrame, address: sectionAddress, bytes: builder.bytes)],
                                       executableRanges: [low..<low + 0x100])
    }

    static func le(_ value: UInt64, _ width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    static func sameRules(_ a: pyro_unwind_row, _ b: pyro_unwind_row) -> Bool {
        a.cfa_rule == b.cfa_rule && a.rbp_rule == b.rbp_rule && a.cfa_offset == b.cfa_offset && a.rbp_offset == b.rbp_offset
    }

    /// "rsp+16 rbp=c-16", "rbp+16", "plt11", "end", "unsupported", "none".
    static func describe(_ row: pyro_unwind_row?, withPC: Bool = false) -> String {
        guard let row else { return "nil" }
        var text: String
        switch UInt32(row.cfa_rule) {
        case PYRO_CFA_RSP.rawValue: text = "rsp\(signed(row.cfa_offset))"
        case PYRO_CFA_RBP.rawValue: text = "rbp\(signed(row.cfa_offset))"
        case PYRO_CFA_PLT.rawValue: text = "plt\(row.cfa_offset)"
        case PYRO_CFA_END.rawValue: text = "end"
        case PYRO_CFA_UNSUPPORTED.rawValue: text = "unsupported"
        case PYRO_CFA_NONE.rawValue: text = "none"
        default: text = "rule\(row.cfa_rule)"
        }
        switch UInt32(row.rbp_rule) {
        case PYRO_RBP_SAME.rawValue: break
        case PYRO_RBP_AT_CFA.rawValue: text += " rbp=c\(signed(row.rbp_offset))"
        case PYRO_RBP_UNDEFINED.rawValue: text += " rbp=u"
        default: text += " rbp=rule\(row.rbp_rule)"
        }
        return withPC ? String(row.pc, radix: 16) + " " + text : text
    }

    private static func signed(_ value: Int32) -> String { value < 0 ? "\(value)" : "+\(value)" }

    /// Links Fixtures/cfi/*.s into a static executable (once per test run).
    static func buildFixture() throws -> URL {
        if let built = builtFixture { return built }
        let directory = try TestSupport.temporaryDirectory()
        let output = directory.appendingPathComponent("cfi_fixture")
        let sources = ["eh_frame.s", "debug_frame.s"].map {
            TestSupport.fixtures.appendingPathComponent("cfi").appendingPathComponent($0).path
        }
        let result = try TestSupport.run("/usr/bin/gcc", ["-nostdlib", "-static", "-no-pie", "-Wl,--build-id=none",
                                                          "-Wl,--compress-debug-sections=zlib", "-o", output.path] + sources)
        guard result.status == 0 else {
            XCTFail("linking the CFI fixture failed: \(result.stderr)")
            throw CancellationError()
        }
        builtFixture = output
        return output
    }

    nonisolated(unsafe) private static var builtFixture: URL?

    static func symbols(of binary: URL) throws -> [String: UInt64] {
        let result = try TestSupport.run("/usr/bin/nm", [binary.path])
        var symbols: [String: UInt64] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 3, let address = UInt64(fields[0], radix: 16) { symbols[String(fields[2])] = address }
        }
        return symbols
    }
}

/// Writes CIEs and FDEs the way a linker would.
struct CFIBuilder {
    let kind: CFISection.Kind
    var bytes: [UInt8] = []

    init(kind: CFISection.Kind) { self.kind = kind }

    static func uleb(_ value: UInt64) -> [UInt8] {
        var value = value, out: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7f)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }

    static func sleb(_ value: Int64) -> [UInt8] {
        var value = value, out: [UInt8] = []
        while true {
            let byte = UInt8(value & 0x7f)
            value >>= 7
            if (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0) { return out + [byte] }
            out.append(byte | 0x80)
        }
    }

    private mutating func entry(dwarf64: Bool, id: UInt64, body: [UInt8]) {
        if dwarf64 {
            bytes += CFITests.le(0xffff_ffff, 4) + CFITests.le(UInt64(8 + body.count), 8) + CFITests.le(id, 8) + body
        } else {
            bytes += CFITests.le(UInt64(4 + body.count), 4) + CFITests.le(id, 4) + body
        }
    }

    /// Returns the CIE's offset.
    mutating func cie(version: UInt8 = 1, dwarf64: Bool = false, augmentation: String, codeAlignment: UInt64 = 1,
                      augmentationData: [UInt8] = [], instructions: [UInt8]) -> Int {
        let offset = bytes.count
        var body: [UInt8] = [version] + Array(augmentation.utf8) + [0]
        if version >= 4 { body += [8, 0] }
        body += Self.uleb(codeAlignment) + Self.sleb(-8)
        body += version == 1 ? [16] : Self.uleb(16)
        if augmentation.hasPrefix("z") { body += Self.uleb(UInt64(augmentationData.count)) + augmentationData }
        body += instructions
        body += padding(after: body.count + (dwarf64 ? 20 : 8))
        let id: UInt64 = kind == .ehFrame ? 0 : (dwarf64 ? UInt64.max : 0xffff_ffff)
        entry(dwarf64: dwarf64, id: id, body: body)
        return offset
    }

    /// An FDE whose address fields are given raw (already encoded).
    mutating func fde(cie: Int, dwarf64: Bool = false, raw addresses: [UInt8], augmentationData: [UInt8]? = nil,
                      instructions: [UInt8]) {
        let pointerField = bytes.count + (dwarf64 ? 12 : 4)
        var body = addresses
        if let augmentationData { body += Self.uleb(UInt64(augmentationData.count)) + augmentationData }
        body += instructions
        body += padding(after: body.count + (dwarf64 ? 20 : 8))
        let id = kind == .ehFrame ? UInt64(pointerField - cie) : UInt64(cie)
        entry(dwarf64: dwarf64, id: id, body: body)
    }

    /// An FDE with a pcrel sdata4 start, as linkers write them.
    mutating func fdePCRelative(cie: Int, sectionAddress: UInt64, start: UInt64, length: UInt64, instructions: [UInt8],
                                setLocTarget: UInt64?) {
        let startField = bytes.count + 8
        let relative = Int64(bitPattern: start &- (sectionAddress + UInt64(startField)))
        var program = instructions
        let placeholder: [UInt8] = [0x01, 0, 0, 0x60, 0]
        if let setLocTarget, let index = program.indices.first(where: {
            program[$0...].starts(with: placeholder)
        }) {
            // The set_loc operand sits after start, length, augmentation length and `index` bytes.
            let field = UInt64(startField + 4 + 4 + 1 + index + 1)
            let value = Int64(bitPattern: setLocTarget &- (sectionAddress + field))
            program.replaceSubrange(index + 1...index + 4, with: CFITests.le(UInt64(bitPattern: value), 4))
        }
        fde(cie: cie, raw: CFITests.le(UInt64(bitPattern: relative), 4) + CFITests.le(length, 4), augmentationData: [],
            instructions: program)
    }

    private func padding(after count: Int) -> [UInt8] {
        Array(repeating: 0, count: (4 - count % 4) % 4) // DW_CFA_nop
    }
}

/// readelf as the reference: its interpreted tables, raw instructions (to
/// tell the PLT's expression from others, and an explicit DW_CFA_undefined
/// rbp from "no rule", both of which it prints alike) and section headers.
enum ReadelfComparison {
    struct Row {
        var pc: UInt64
        var cfa: String
        var rbp: String?
        var ra: String?
    }

    struct Entry {
        var section: String
        var offset: String
        var isFDE: Bool
        var cie: String = ""
        var range: Range<UInt64> = 0..<0
        var rows: [Row] = []
    }

    struct RawFlags {
        var pltThresholds: Set<Int32> = []
        var otherCFAExpression = false
        var undefinedRBP = false
    }

    static func sections(of path: String) throws -> [String: Range<UInt64>] {
        let result = try TestSupport.run("/usr/bin/readelf", ["-SW", path])
        var sections: [String: Range<UInt64>] = [:]
        for line in result.stdout.split(separator: "\n") {
            guard let close = line.firstIndex(of: "]") else { continue }
            let fields = line[line.index(after: close)...].split(separator: " ")
            guard fields.count >= 5, let address = UInt64(fields[2], radix: 16), let size = UInt64(fields[4], radix: 16)
            else { continue }
            sections[String(fields[0])] = address..<address + size
        }
        return sections
    }

    /// Checks every row at its first and last byte, and every FDE's end;
    /// returns how many readelf rows were compared.
    static func check(_ table: UnwindTable, against path: String, file: StaticString = #filePath,
                      line: UInt = #line) throws -> Int {
        // -wN: not the separate debug file's copy of the tables (a NOBITS .eh_frame).
        let interpreted = try readelf(["-wN", "--debug-dump=frames-interp", path])
        let raw = try readelf(["-wN", "--debug-dump=frames", path])
        let entries = parseInterpreted(interpreted)
        let flags = parseRaw(raw)
        var cieRows: [String: [Row]] = [:]
        for entry in entries where !entry.isFDE { cieRows[entry.section + entry.offset] = entry.rows }
        let fdes = entries.filter(\.isFDE)
        let starts = Set(fdes.map(\.range.lowerBound))
        var compared = 0, failures = 0
        func fail(_ message: String) {
            failures += 1
            if failures <= 20 { XCTFail("\(path): \(message)", file: file, line: line) }
        }
        for fde in fdes {
            let rows = fde.rows.isEmpty ? (cieRows[fde.section + fde.cie] ?? []).map {
                Row(pc: fde.range.lowerBound, cfa: $0.cfa, rbp: $0.rbp, ra: $0.ra)
            } : fde.rows
            guard !rows.isEmpty else {
                fail("FDE \(fde.offset) has no rows to compare")
                continue
            }
            let flag = flags[fde.section + fde.offset] ?? RawFlags()
            for (index, row) in rows.enumerated() {
                compared += 1
                let end = index + 1 < rows.count ? rows[index + 1].pc : fde.range.upperBound
                let allowed = expectations(row, flags: flag)
                for pc in row.pc == end - 1 ? [row.pc] : [row.pc, end - 1] {
                    let actual = CFITests.describe(table.row(for: UInt32(pc)))
                    if !allowed.contains(actual) {
                        fail("pc 0x\(String(pc, radix: 16)) (readelf \(row.cfa) rbp \(row.rbp ?? "-") ra \(row.ra ?? "-")): "
                            + "got \(actual), expected one of \(allowed.sorted())")
                    }
                }
            }
            if !starts.contains(fde.range.upperBound) {
                let actual = CFITests.describe(table.row(for: UInt32(fde.range.upperBound)))
                if actual != "none" { fail("end of FDE at 0x\(String(fde.range.upperBound, radix: 16)) gives \(actual)") }
            }
        }
        if failures > 20 { XCTFail("\(path): \(failures - 20) more mismatches", file: file, line: line) }
        return compared
    }

    /// What a readelf row may compile to, in CFITests.describe's words.
    static func expectations(_ row: Row, flags: RawFlags) -> Set<String> {
        switch row.ra {
        case "u": return ["end"]
        case "c-8": break
        default: return ["unsupported"]
        }
        var cfas: [String] = []
        if row.cfa == "exp" {
            cfas = flags.pltThresholds.map { "plt\($0)" }
            if flags.otherCFAExpression || flags.pltThresholds.isEmpty { cfas.append("unsupported") }
        } else if let plus = row.cfa.firstIndex(where: { $0 == "+" || $0 == "-" }),
                  ["rsp", "rbp"].contains(String(row.cfa[..<plus])) {
            guard let offset = Int32(row.cfa[row.cfa.index(after: plus)...]) else { return ["unsupported"] }
            cfas = [String(row.cfa[..<plus]) + (row.cfa[plus] == "-" ? "-" : "+") + "\(offset)"]
        } else {
            return ["unsupported"]
        }
        var rbps: [String]
        switch row.rbp {
        case nil, "s": rbps = [""]
        case "u": rbps = flags.undefinedRBP ? ["", " rbp=u"] : [""]
        case let rule? where rule.hasPrefix("c+") || rule.hasPrefix("c-"):
            guard let offset = Int32(rule.dropFirst(rule.hasPrefix("c+") ? 2 : 1)) else { return ["unsupported"] }
            rbps = [" rbp=c" + (offset < 0 ? "\(offset)" : "+\(offset)")]
        default: rbps = [" rbp=u"]
        }
        return Set(cfas.flatMap { cfa in rbps.map { cfa == "unsupported" ? cfa : cfa + $0 } })
    }

    private static func readelf(_ arguments: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/readelf")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "readelf \(arguments)")
        return [UInt8](data)
    }

    /// The whitespace-separated words of a line; a word opening with "("
    /// joins the one before ("r9 (r9)" is one register rule). Byte slices,
    /// since readelf prints hundreds of thousands of lines.
    private static func words(_ line: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var words: [ArraySlice<UInt8>] = []
        var index = line.startIndex
        while index < line.endIndex {
            while index < line.endIndex && line[index] == 0x20 { index += 1 }
            guard index < line.endIndex else { break }
            let start = index
            while index < line.endIndex && line[index] != 0x20 { index += 1 }
            if line[start] == UInt8(ascii: "("), let last = words.popLast() {
                words.append(line[last.startIndex..<index])
            } else {
                words.append(line[start..<index])
            }
        }
        return words
    }

    private static func text(_ word: ArraySlice<UInt8>) -> String { String(decoding: word, as: UTF8.self) }

    private static let contentsPrefix = Array("Contents of the ".utf8)

    /// The section a "Contents of the .eh_frame section:" line opens.
    private static func section(of line: ArraySlice<UInt8>) -> String? {
        guard line.first == UInt8(ascii: "C"), line.starts(with: contentsPrefix) else { return nil }
        let words = words(line)
        return words.count >= 4 ? text(words[3]) : nil
    }

    /// "<offset> <length> <id> CIE|FDE ...": the offset and the kind.
    private static func entryHeader(_ line: ArraySlice<UInt8>) -> (words: [ArraySlice<UInt8>], isFDE: Bool)? {
        guard line.count > 9, line[line.startIndex] != 0x20, line[line.startIndex + 8] == 0x20 else { return nil }
        let words = words(line)
        guard words.count >= 4, words[3].count == 3 else { return nil }
        switch text(words[3]) {
        case "FDE": return (words, true)
        case "CIE": return (words, false)
        default: return nil
        }
    }

    static func parseInterpreted(_ bytes: [UInt8]) -> [Entry] {
        var entries: [Entry] = []
        var sectionName = ""
        var columns: [String] = []
        var rbpColumn: Int?, raColumn: Int?
        let loc = Array("   LOC".utf8)
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            if let name = section(of: line) {
                sectionName = name
            } else if let (words, isFDE) = entryHeader(line) {
                var entry = Entry(section: sectionName, offset: text(words[0]), isFDE: isFDE)
                for word in words.dropFirst(4).map(text) {
                    if word.hasPrefix("cie=") { entry.cie = String(word.dropFirst(4)) }
                    if word.hasPrefix("pc=") {
                        let bounds = word.dropFirst(3).components(separatedBy: "..")
                        if bounds.count == 2, let low = UInt64(bounds[0], radix: 16), let high = UInt64(bounds[1], radix: 16) {
                            entry.range = low..<high
                        }
                    }
                }
                entries.append(entry)
                columns = []
            } else if line.starts(with: loc) {
                columns = words(line).map(text)
                rbpColumn = columns.firstIndex(of: "rbp")
                raColumn = columns.firstIndex(of: "ra")
            } else if line.count > 17, line[line.startIndex + 16] == 0x20, line.first != 0x20, !entries.isEmpty {
                let words = words(line)
                guard words.count == columns.count, words.count >= 2, let pc = UInt64(text(words[0]), radix: 16) else { continue }
                entries[entries.count - 1].rows.append(Row(pc: pc, cfa: text(words[1]), rbp: rbpColumn.map { text(words[$0]) },
                                                           ra: raColumn.map { text(words[$0]) }))
            }
        }
        return entries
    }

    static func parseRaw(_ bytes: [UInt8]) -> [String: RawFlags] {
        var flags: [String: RawFlags] = [:]
        var sectionName = "", current: String?
        let expression = Array("  DW_CFA_def_cfa_expression".utf8), undefined = Array("  DW_CFA_undefined: r6 (rbp)".utf8)
        let plt = "(DW_OP_breg7 (rsp): 8; DW_OP_breg16 (rip): 0; DW_OP_lit15; DW_OP_and; DW_OP_lit"
        let tail = "; DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus)"
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            if let name = section(of: line) {
                sectionName = name
            } else if let (words, isFDE) = entryHeader(line) {
                current = isFDE ? sectionName + text(words[0]) : nil
            } else if line.count < 20 || line[line.startIndex + 2] != UInt8(ascii: "D") {
                continue
            } else if let key = current, line.starts(with: expression) {
                let text = text(line)
                if text.contains(plt + "11" + tail) {
                    flags[key, default: RawFlags()].pltThresholds.insert(11)
                } else if text.contains(plt + "10" + tail) {
                    flags[key, default: RawFlags()].pltThresholds.insert(10)
                } else {
                    flags[key, default: RawFlags()].otherCFAExpression = true
                }
            } else if let key = current, line.starts(with: undefined) {
                flags[key, default: RawFlags()].undefinedRBP = true
            }
        }
        return flags
    }
}
