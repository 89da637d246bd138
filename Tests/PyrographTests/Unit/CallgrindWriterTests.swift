import Foundation
import XCTest
@testable import Aggregation
@testable import Output

final class CallgrindWriterTests: XCTestCase {
    func testMatchesGoldenFile() {
        assertMatchesGolden(CallgrindWriter().rendered(FormatFixture.aggregated), named: "callgrind-basic.callgrind")
    }

    func testFileNamesPickTheFormat() {
        XCTAssertEqual(ProfileFormat.inferred(fromPath: "/tmp/callgrind.out.1234"), .callgrind)
        XCTAssertEqual(ProfileFormat.inferred(fromPath: "x.callgrind"), .callgrind)
        XCTAssertEqual(ProfileFormat.inferred(fromPath: "x.trace.json"), .chrome)
        XCTAssertEqual(ProfileFormat.inferred(fromPath: "x.speedscope.json"), .speedscope)
    }

    /// A newline or control byte in a name cannot start a new line of the
    /// format: every line is a header, a position line or a known key.
    func testHostileNamesStayOnTheirLine() {
        let text = CallgrindWriter().rendered(FormatFixture.aggregated)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let known = ["#", "version:", "creator:", "positions:", "events:", "summary:", "fl=", "fn=", "cfi=", "cfn=", "calls="]
            XCTAssertTrue(known.contains { line.hasPrefix($0) } || line.first?.isNumber == true, "stray line: \(line)")
            XCTAssertFalse(line.unicodeScalars.contains { UntrustedText.needsEscape($0) })
        }
        XCTAssertTrue(text.contains(") evil;\"name\"\\n<script>\\x1b[31m\\"), text)
    }

    /// valgrind's callgrind_annotate reads the file and finds, per
    /// function, the self and inclusive costs computed from the folded
    /// output of the same profile (a function's lines merged, counted once
    /// per stack under recursion).
    func testCallgrindAnnotateAgreesWithFolded() throws {
        var profile = Profile(sampleTypes: [.samples, .cpuTime])
        let recursive = Frame.python(function: "walk", file: "/srv/tree.py", line: 5)
        profile.merge(FormatFixture.aggregated)
        profile.add([FormatFixture.app, FormatFixture.mainThread, FormatFixture.main, recursive, FormatFixture.parse,
                     .python(function: "walk", file: "/srv/tree.py", line: 7)], values: [5, 5 * FormatFixture.period])
        let annotated = try CallgrindAnnotate.costs(of: CallgrindWriter().rendered(profile))
        let expected = CallgrindAnnotate.expectedCosts(profile)
        XCTAssertEqual(annotated.total, profile.totals[0])
        XCTAssertEqual(annotated.selfCosts, expected.selfCosts)
        XCTAssertEqual(annotated.inclusive, expected.inclusive)
        XCTAssertEqual(annotated.inclusive["/srv/tree.py:walk"], 5)
        XCTAssertEqual(annotated.inclusive["[process]:app (42)"], 16)
        XCTAssertEqual(annotated.inclusive["/srv/app.py:parse"], 11)
    }
}

/// Runs valgrind's callgrind_annotate and reads back its per-function table.
enum CallgrindAnnotate {
    struct Costs: Equatable {
        var total: UInt64 = 0
        /// "file:function" → cost of the first event (samples).
        var selfCosts: [String: UInt64] = [:]
        var inclusive: [String: UInt64] = [:]
    }

    static func costs(of text: String) throws -> Costs {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/callgrind_annotate") else {
            throw XCTSkip("valgrind's callgrind_annotate is not installed (make deps installs it)")
        }
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("callgrind.out.1").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        var costs = Costs()
        for inclusive in [false, true] {
            let result = try TestSupport.run("/usr/bin/callgrind_annotate",
                                             ["--inclusive=\(inclusive ? "yes" : "no")", "--threshold=100", path])
            XCTAssertEqual(result.status, 0, result.stderr)
            for line in result.stdout.split(separator: "\n") {
                // "5 (29.41%)  50,000,000 (29.41%)  /srv/app.py:parse": the first column, then the name.
                let text = line.trimmingCharacters(in: .whitespaces)
                guard let first = text.split(separator: " ").first,
                      let value = UInt64(first.replacingOccurrences(of: ",", with: "")),
                      let end = text.range(of: "%)", options: .backwards) else { continue }
                let name = String(text[end.upperBound...]).trimmingCharacters(in: .whitespaces)
                if name == "PROGRAM TOTALS" { costs.total = value; continue }
                if inclusive { costs.inclusive[name] = value } else { costs.selfCosts[name] = value }
            }
        }
        return costs
    }

    /// Self and inclusive sample counts per "file:function", as they
    /// are counted from the folded lines of the profile: the leaf's
    /// function gets the line's value as self cost, every function on the
    /// line gets it once as inclusive cost.
    static func expectedCosts(_ profile: Profile) -> Costs {
        var costs = Costs()
        for stack in profile.stacks {
            let value = stack.values[0]
            let functions = profile.frames(of: stack).map(CallgrindWriter.function)
                .map { UntrustedText.escaped($0.file) + ":" + UntrustedText.escaped($0.name) }
            costs.selfCosts[functions.last!, default: 0] += value
            for function in Set(functions) { costs.inclusive[function, default: 0] += value }
        }
        return costs
    }
}
