import XCTest
@testable import Aggregation
@testable import Output

final class ReportWriterTests: XCTestCase {
    /// The report of the fixture as `pyrograph report` makes it: from its
    /// folded text, read back.
    func testMatchesGoldenFile() throws {
        let profile = try FoldedReader.read(FoldedWriter.render(FormatFixture.aggregated))
        assertMatchesGolden(ReportWriter().rendered(profile), named: "report-merged.txt")
        assertMatchesGolden(ReportWriter(perProcess: true, limit: 3).rendered(profile), named: "report-per-process.txt")
    }

    func testSharesAndCeilings() throws {
        let profile = try FoldedReader.read("""
        app (1);main [app];work (w.py:3);spin (w.py:9) 6
        app (1);main [app];work (w.py:4) 2
        app (1);main [app];idle (w.py:20) 2

        """)
        let lines = ReportWriter().rendered(profile).split(separator: "\n").map(String.init)
        // spin: 60% self and total, at most 2.5x; work: 80% total, at most 5x.
        XCTAssertTrue(lines.contains("    60.0%   60.0%    2.50x  spin (w.py)"), lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains("    20.0%   80.0%    5.00x  work (w.py)"), lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains("     0.0%  100.0%      inf  main [app]"), lines.joined(separator: "\n"))
        XCTAssertEqual(ReportWriter.ceiling(0.5), "  2.00x")
    }

    func testFoldedReaderTypesFramesBack() throws {
        let profile = try FoldedReader.read("""
        app (42);worker (43);main [python3.11];run (/srv/a b.py:10);libx.so+0x1f;ksys_read_[k];[stack table full];bare 3
        merged;f (x.py:1) 1
        """)
        XCTAssertEqual(profile.frames, [
            .process(comm: "app", pid: 42), .thread(name: "worker", tid: 43), .native(symbol: "main", module: "python3.11"),
            .python(function: "run", file: "/srv/a b.py", line: 10), .unsymbolized(module: "libx.so", offset: 0x1f),
            .kernel(symbol: "ksys_read"), Frame(kind: .annotation, function: "stack table full"),
            .native(symbol: "bare", module: nil), Frame(kind: .process, function: "merged"),
            .python(function: "f", file: "x.py", line: 1),
        ])
        XCTAssertEqual(profile.totals, [4])
    }

    /// Folded text read back writes the same folded text, hostile names too.
    func testFoldedRoundTrip() throws {
        let folded = FoldedWriter.render(FormatFixture.aggregated)
        XCTAssertEqual(FoldedWriter.render(try FoldedReader.read(folded)), folded)
    }

    /// Windows line ends, blank lines, a line without samples, the same
    /// name at the root, as a thread and below (typed by its depth), and a
    /// last line without a newline.
    func testFoldedLinesAndNamesAreCutAsBytes() throws {
        let profile = try FoldedReader.read(
            "app (7);w (8);w (8);f (a.py:3) 5\r\n\r\n  \u{00A0}\napp (7);w (8);g (a.py:4) 0\r\nw (8);app (7);w (8) 2")
        XCTAssertEqual(profile.stacks.map { profile.frames(of: $0) }, [
            [.process(comm: "app", pid: 7), .thread(name: "w", tid: 8), .native(symbol: "w (8)", module: nil),
             .python(function: "f", file: "a.py", line: 3)],
            [.process(comm: "w", pid: 8), .thread(name: "app", tid: 7), .native(symbol: "w (8)", module: nil)],
        ])
        XCTAssertEqual(profile.stacks.map(\.values), [[5], [2]])
        XCTAssertEqual(profile.frames.count, 6, "a line without samples adds no frames")
    }

    func testMalformedLineIsReported() {
        XCTAssertThrowsError(try FoldedReader.read("a;b 1\na;b x\n")) { error in
            XCTAssertEqual((error as? FoldedReader.Malformed)?.line, 2)
        }
    }
}
