import Foundation
import XCTest
@testable import Aggregation
@testable import Output

final class SpeedscopeWriterTests: XCTestCase {
    func testMatchesGoldenFile() {
        assertMatchesGolden(SpeedscopeWriter().rendered(FormatFixture.profile), named: "speedscope-basic.speedscope.json")
        assertMatchesGolden(SpeedscopeWriter().rendered(FormatFixture.aggregated),
                            named: "speedscope-aggregated.speedscope.json")
    }

    func testValidatesAgainstTheSchema() throws {
        for profile in [FormatFixture.profile, FormatFixture.aggregated] {
            try SpeedscopeSchema.validate(SpeedscopeWriter().rendered(profile))
        }
    }

    /// One profile per thread, whose weights add up to that thread's total
    /// in the folded output of the same profile; frames resolve to the
    /// same names, hostile ones included.
    func testPerThreadTotalsMatchFolded() throws {
        for profile in [FormatFixture.profile, FormatFixture.aggregated] {
            let json = try FormatFixture.json(SpeedscopeWriter().rendered(profile))
            let frames = try XCTUnwrap((json["shared"] as? [String: Any])?["frames"] as? [[String: Any]])
            let names = frames.map { $0["name"] as? String ?? "" }
            XCTAssertEqual(names, profile.frames.map(FrameNaming.displayName))
            XCTAssertTrue(names.contains(FormatFixture.hostile.function + " (/tmp/<x>\".py:1)"))
            var totals: [String: UInt64] = [:]
            for entry in try XCTUnwrap(json["profiles"] as? [[String: Any]]) {
                let name = try XCTUnwrap(entry["name"] as? String).replacingOccurrences(of: " / ", with: ";")
                let weights = try XCTUnwrap(entry["weights"] as? [Int])
                XCTAssertEqual((entry["samples"] as? [Any])?.count, weights.count)
                totals[name] = weights.reduce(0) { $0 + UInt64($1) }
            }
            XCTAssertEqual(totals, FormatFixture.foldedTotals(FoldedWriter.render(profile)))
        }
    }

    func testTimelineSamplesAreInTimeOrder() throws {
        let json = try FormatFixture.json(SpeedscopeWriter().rendered(FormatFixture.profile))
        let profiles = try XCTUnwrap(json["profiles"] as? [[String: Any]])
        let main = try XCTUnwrap(profiles.first { ($0["name"] as? String) == "app (42) / app (42)" })
        let leaves = try XCTUnwrap(main["samples"] as? [[Int]]).map { FormatFixture.profile.frames[$0.last!].function }
        XCTAssertEqual(leaves, ["parse", "parse", "parse", "parse", "run", "run", "parse", "ksys_read"])
    }
}

/// Checks speedscope JSON against the schema in Fixtures/formats (speedscope's
/// published file-format schema, restated) with python3's jsonschema.
enum SpeedscopeSchema {
    static func validate(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let probe = try TestSupport.run("/usr/bin/env", ["python3", "-c", "import jsonschema"])
        guard probe.status == 0 else {
            throw XCTSkip("python3-jsonschema is not installed (make deps installs it)")
        }
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let document = directory.appendingPathComponent("profile.speedscope.json")
        try Data(text.utf8).write(to: document)
        let schema = TestSupport.fixtures.appendingPathComponent("formats/speedscope-schema.json")
        let script = """
        import json, sys, jsonschema
        jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))
        """
        let result = try TestSupport.run("/usr/bin/env", ["python3", "-c", script, schema.path, document.path])
        XCTAssertEqual(result.status, 0, "speedscope schema: \(result.stderr)", file: file, line: line)
    }
}
