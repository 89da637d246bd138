import Foundation
import XCTest

/// `pyrograph convert`: any readable profile into any format; input it
/// cannot read is refused with the reason before the output is touched.
/// Needs the release binary, not root.
final class ConvertCommandTests: XCTestCase {
    private func convert(_ arguments: [String]) throws -> TestSupport.Finished {
        try TestSupport.run(try TestSupport.pyrographBinary(), ["convert"] + arguments)
    }

    private var golden: String { GoldenFile.url(named: "folded-basic.txt").path }

    func testConvertsBetweenFormatsByNameAndExtension() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pprof = directory.appendingPathComponent("x.pb.gz").path
        XCTAssertEqual(try convert([golden, "-o", pprof]).status, 0)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: pprof)).prefix(2)), [0x1f, 0x8b])
        // -o - streams; -f names the format whatever the output is called.
        let folded = try convert([pprof, "-o", "-", "-f", "folded"])
        XCTAssertEqual(folded.status, 0, folded.stderr)
        XCTAssertEqual(folded.stdout, try String(contentsOfFile: golden, encoding: .utf8))
        for (name, marker) in [("x.svg", "<svg"), ("x.speedscope.json", "speedscope"), ("x.trace.json", "traceEvents"),
                               ("callgrind.out.1", "events:")] {
            let path = directory.appendingPathComponent(name).path
            let result = try convert([pprof, "-o", path])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(try String(contentsOfFile: path, encoding: .utf8).contains(marker), name)
        }
    }

    func testUnreadableInputIsRefusedBeforeWriting() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out.svg")
        try Data("the old profile".utf8).write(to: output)
        let garbage = directory.appendingPathComponent("garbage.pb.gz")
        try Data([0x00, 0x01, 0x02, 0xff, 0xfe]).write(to: garbage)
        let truncated = directory.appendingPathComponent("truncated.pb.gz")
        let whole = directory.appendingPathComponent("whole.pb.gz")
        XCTAssertEqual(try convert([golden, "-o", whole.path]).status, 0)
        try Data(try Data(contentsOf: whole).prefix(40)).write(to: truncated)
        let empty = directory.appendingPathComponent("empty")
        try Data().write(to: empty)
        let cases = [
            (directory.appendingPathComponent("missing").path, "cannot read"),
            (garbage.path, "is not a profile pyrograph reads"),
            (truncated.path, "truncated"),
            (empty.path, "is empty"),
            (directory.path, "is a directory"),
        ]
        for (input, message) in cases {
            let result = try convert([input, "-o", output.path])
            XCTAssertNotEqual(result.status, 0, input)
            XCTAssertTrue(result.stderr.contains(message), "\(input): \(result.stderr)")
            XCTAssertEqual(try String(contentsOf: output, encoding: .utf8), "the old profile", "\(input) touched the output")
        }
        let report = try TestSupport.run(try TestSupport.pyrographBinary(), ["report", garbage.path])
        XCTAssertNotEqual(report.status, 0)
        XCTAssertTrue(report.stderr.contains("is not a profile pyrograph reads"), report.stderr)
    }
}
