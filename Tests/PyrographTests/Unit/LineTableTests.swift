import Foundation
import PythonRuntime
import XCTest

/// LineTable against the interpreters themselves: Fixtures/python/line_tables.py
/// dumps real tables with each interpreter's own instruction-to-line map, and
/// every instruction position must agree. Hand-built tables cover the corners
/// the compilers rarely emit.
final class LineTableTests: XCTestCase {
    static let interpreters = ["2.7.18", "3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"]
        .map { "/root/.pyenv/versions/\($0)/bin/python" } + ["/usr/bin/python3.11"]

    func testEveryInstructionMatchesTheInterpreter() throws {
        for interpreter in Self.interpreters {
            guard FileManager.default.isExecutableFile(atPath: interpreter) else {
                XCTFail("interpreter missing: \(interpreter); these tests need every supported CPython installed")
                continue
            }
            let dump = try Self.dump(interpreter)
            try checkEveryInstruction(dump, interpreter: interpreter)
        }
    }

    /// The fixture must reach the encodings that make the formats differ;
    /// otherwise matching the interpreter proves little.
    func testFixtureCoversEveryEncoding() throws {
        for interpreter in Self.interpreters where FileManager.default.isExecutableFile(atPath: interpreter) {
            let dump = try Self.dump(interpreter)
            let version = try XCTUnwrap(PythonVersion(string: dump.version))
            let tables = dump.codeObjects.map { Self.bytes(hex: $0.table) }
            let pairs = tables.flatMap { table in stride(from: 0, to: table.count - 1, by: 2).map { (table[$0], table[$0 + 1]) } }
            let context = "\(interpreter) (\(version))"
            switch Self.format(of: version) {
            case .lnotab:
                XCTAssertTrue(pairs.contains { $0 == (255, 0) }, "no address continuation pair: \(context)")
                XCTAssertTrue(pairs.contains { $0.0 == 0 && $0.1 == (version.major == 2 ? 255 : 127) },
                              "no line continuation pair: \(context)")
                if version.major == 2 {
                    XCTAssertTrue(pairs.contains { $0.1 >= 0x80 }, "no unsigned increment >= 128: \(context)")
                }
                if version >= PythonVersion(major: 3, minor: 8, micro: 0) {
                    XCTAssertTrue(pairs.contains { $0.1 >= 0x80 }, "no negative increment: \(context)")
                }
            case .linetable310:
                XCTAssertTrue(pairs.contains { $0.1 == 0x80 }, "no -128 (no line) entry: \(context)")
                XCTAssertTrue(pairs.contains { $0.1 > 0x80 }, "no negative delta: \(context)")
                XCTAssertTrue(pairs.contains { $0 == (0, 127) }, "no line continuation pair: \(context)")
                XCTAssertTrue(pairs.contains { $0.0 == 254 }, "no split long range: \(context)")
            case .locationTable:
                let codes = Set(dump.codeObjects.flatMap { $0.entryCodes ?? [] })
                XCTAssertEqual(codes, Set(0...15), "entry codes reached: \(context)")
            }
        }
    }

    // MARK: Hand-built tables

    func testLnotabContinuationPairsOn27() {
        // 510 bytes of code on line 1, then +10 bytes and +555 lines in
        // three pairs, as 2.7 encodes gaps over 255.
        let table: [UInt8] = [255, 0, 255, 0, 10, 255, 0, 255, 0, 45]
        let line = { LineTable.line(for: $0, firstLine: 1, table: table, format: .lnotab, signedLineIncrements: false) }
        XCTAssertEqual(line(0), 1)
        XCTAssertEqual(line(519), 1)
        XCTAssertEqual(line(520), 556)
        XCTAssertEqual(line(10_000), 556, "past the table: the last line, as PyCode_Addr2Line")
    }

    func testLnotabIncrementSignednessFollowsTheVersion() throws {
        let table: [UInt8] = [6, 200]
        XCTAssertEqual(LineTable.line(for: 6, firstLine: 100, table: table, format: .lnotab, signedLineIncrements: false), 300)
        XCTAssertEqual(LineTable.line(for: 6, firstLine: 100, table: table, format: .lnotab), 44)
        let python27 = try XCTUnwrap(PythonLayoutTable.layout(for: PythonVersion(major: 2, minor: 7, micro: 18)))
        let python39 = try XCTUnwrap(PythonLayoutTable.layout(for: PythonVersion(major: 3, minor: 9, micro: 18)))
        XCTAssertEqual(LineTable.line(for: 6, firstLine: 100, table: table, layout: python27), 300)
        XCTAssertEqual(LineTable.line(for: 6, firstLine: 100, table: table, layout: python39), 44)
    }

    func testLnotabNegativeIncrementAndUnstartedFrame() {
        let table: [UInt8] = [6, 2, 4, 0xfe]
        let line = { LineTable.line(for: $0, firstLine: 5, table: table, format: .lnotab) }
        XCTAssertEqual([-1, 0, 5, 6, 9, 10, 12].map(line), [5, 5, 5, 7, 7, 5, 5])
        XCTAssertEqual(LineTable.line(for: 0, firstLine: 9, table: [], format: .lnotab), 9)
    }

    func testLinetable310NoLineAndZeroLengthRanges() {
        // Units 0-1 on line 11, unit 2 without a line, unit 3 on 12: -128
        // leaves the running line alone.
        let table: [UInt8] = [4, 1, 2, 0x80, 2, 1]
        let line = { LineTable.line(for: $0, firstLine: 10, table: table, format: .linetable310) }
        XCTAssertEqual([-1, 0, 1, 2, 3, 4].map(line), [10, 11, 11, nil, 12, nil])
        // Zero-length ranges carry +127 each before the first real range.
        let long: [UInt8] = [0, 127, 0, 127, 254, 6, 254, 0, 2, 0x81]
        let longLine = { LineTable.line(for: $0, firstLine: 10, table: long, format: .linetable310) }
        XCTAssertEqual([0, 126, 127, 253, 254, 255].map(longLine), [270, 270, 270, 270, 143, nil])
    }

    func testLocationTableEveryEntryKind() {
        let table: [UInt8] = [
            0x80 | 3 << 3 | 1, 0x05,                  // code 3, 2 units: same line (10)
            0x80 | 11 << 3 | 0, 0x01, 0x02,           // code 11, 1 unit: +1 -> 11
            0x80 | 15 << 3 | 1,                       // code 15, 2 units: no location
            0x80 | 13 << 3 | 0, 0x07,                 // code 13: -3 -> 8
            0x80 | 14 << 3 | 2, 0x48, 0x03, 0x01, 0x41, 0x02, 0x03, // code 14, 3 units: +100 -> 108
            0x80 | 12 << 3 | 7, 0x00, 0x00,           // code 12, 8 units: +2 -> 110
        ]
        let line = { LineTable.line(for: $0, firstLine: 10, table: table, format: .locationTable) }
        XCTAssertEqual((-1...17).map(line),
                       [10, 10, 10, 11, nil, nil, 8, 108, 108, 108] + Array(repeating: 110, count: 8) + [nil])
    }

    func testMalformedLocationTablesGiveNoLine() {
        let line = { LineTable.line(for: 0, firstLine: 1, table: $0, format: .locationTable) }
        XCTAssertNil(line([0x80 | 14 << 3, 0x48]), "varint cut short")
        XCTAssertNil(line([0x80 | 10 << 3, 0x01]), "columns cut short")
        XCTAssertNil(line([0x05, 0x01]), "no entry header bit")
        XCTAssertNil(line([]))
        XCTAssertNil(LineTable.line(for: Int.max, firstLine: 1, table: [2, 0], format: .linetable310))
    }

    // MARK: Support

    struct Dump: Decodable {
        var version: String
        var codeObjects: [CodeObject]
    }

    struct CodeObject: Decodable {
        var name: String
        var firstLine: Int
        var format: String
        var table: String
        /// The interpreter's line for every instruction position; null where
        /// it reports none.
        var lines: [Int?]
        var entryCodes: [Int]?
    }

    static func dump(_ interpreter: String) throws -> Dump {
        let script = TestSupport.fixtures.appendingPathComponent("python/line_tables.py").path
        let result = try TestSupport.run(interpreter, [script])
        guard result.status == 0 else {
            XCTFail("\(interpreter) \(script) exited \(result.status): \(result.stderr)")
            throw CancellationError()
        }
        return try JSONDecoder().decode(Dump.self, from: Data(result.stdout.utf8))
    }

    static func format(of version: PythonVersion) -> PythonLayout.LineTableFormat {
        switch (version.major, version.minor) {
        case (2, _), (3, ...9): return .lnotab
        case (3, 10): return .linetable310
        default: return .locationTable
        }
    }

    static func formatName(_ format: PythonLayout.LineTableFormat) -> String {
        switch format {
        case .lnotab: return "lnotab"
        case .linetable310: return "linetable310"
        case .locationTable: return "locationTable"
        }
    }

    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).map {
            UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)!
        }
    }

    func checkEveryInstruction(_ dump: Dump, interpreter: String) throws {
        let version = try XCTUnwrap(PythonVersion(string: dump.version), dump.version)
        let format = Self.format(of: version)
        let layout = PythonLayoutTable.layout(for: version)
        if let layout {
            XCTAssertEqual(layout.lineTableFormat, format, "PythonLayoutTable's format for \(version)")
        }
        XCTAssertGreaterThan(dump.codeObjects.count, 20, interpreter)
        for code in dump.codeObjects {
            let context = "\(interpreter) (\(version)) \(code.name) firstLine \(code.firstLine) table \(code.table)"
            XCTAssertEqual(code.format, Self.formatName(format), context)
            let table = Self.bytes(hex: code.table)
            let line = { (instruction: Int) in
                LineTable.line(for: instruction, firstLine: code.firstLine, table: table, format: format,
                               signedLineIncrements: version.major >= 3)
            }
            var mismatches: [String] = []
            for (instruction, expected) in code.lines.enumerated() {
                let actual = line(instruction)
                if actual != expected { mismatches.append("\(instruction): \(String(describing: actual)) != \(String(describing: expected))") }
                if let layout {
                    XCTAssertEqual(LineTable.line(for: instruction, firstLine: code.firstLine, table: table, layout: layout),
                                   actual, context)
                }
            }
            XCTAssertTrue(mismatches.isEmpty, "\(context): \(mismatches.count) of \(code.lines.count) positions differ, first: \(mismatches.prefix(5))")
            XCTAssertEqual(line(-1), code.firstLine, "unstarted frame: \(context)")
            if format != .lnotab {
                XCTAssertNil(line(code.lines.count), "past the end: \(context)")
            }
        }
    }
}
