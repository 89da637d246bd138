import XCTest
@testable import Aggregation
@testable import Live
@testable import Recording

/// What `top` draws, as text: it fits the terminal, names are escaped and
/// cut, the keys are on the last line; the piped snapshot keeps names whole.
final class TopScreenTests: XCTestCase {
    static let setup = TopContent.Setup(scope: "every Python process on the host", frequency: 99, clock: .cpu)

    static func content(rows: Int, name: String = "handler") -> TopContent {
        var model = TopModel()
        let process = Frame.process(comm: "web\u{1b}[2J", pid: 4242)
        let thread = Frame.thread(name: "MainThread", tid: 4242)
        for index in 0..<rows {
            model.add(process: process, thread: thread,
                      frames: [.python(function: "\(name)_\(index)", file: "/very/long/path/to/the/service/module_\(index).py", line: 3)],
                      samples: UInt64(rows - index), weight: UInt64(rows - index))
        }
        model.closeInterval(seconds: 1)
        return TopContent(setup: setup, elapsedSeconds: 12.34, status: nil, model: model, state: TopViewState())
    }

    func testEightyByTwentyFourIsFilledAndNothingIsWider() {
        let lines = TopScreen.lines(Self.content(rows: 50), width: 80, height: 24)
        XCTAssertEqual(lines.count, 24)
        XCTAssertTrue(lines.allSatisfy { $0.text.count <= 80 }, lines.map(\.text).joined(separator: "\n"))
        XCTAssertEqual(lines.last?.text, TopKey.help)
        XCTAssertTrue(lines[0].text.hasPrefix("pyrograph top: every Python process on the host, 99 Hz, cpu clock, 12.3 s"))
        // 50 of 1275 samples.
        XCTAssertEqual(lines[4].text, "  OWN%   TOT%    OWN%   TOT%     PID THREAD       FUNCTION")
        XCTAssertEqual(lines[5].text, "   3.9    3.9     3.9    3.9    4242 MainThread   handler_0 (module_0.py)")
        XCTAssertTrue(lines[6].text.contains("handler_1 (module_1.py)"))
        XCTAssertEqual(lines.filter { $0.text.contains("handler_") }.count, 18, "24 lines less 5 of header and 1 of keys")
    }

    func testResizedTerminalsGetTheirSize() {
        let wide = TopScreen.lines(Self.content(rows: 50), width: 200, height: 60)
        XCTAssertEqual(wide.count, 60)
        XCTAssertEqual(wide.filter { $0.text.contains("handler_") }.count, 50)
        let narrow = TopScreen.lines(Self.content(rows: 3, name: String(repeating: "x", count: 100)), width: 60, height: 10)
        XCTAssertTrue(narrow.allSatisfy { $0.text.count <= 60 })
        XCTAssertTrue(narrow[5].text.hasSuffix("~"), "a cut name ends in ~: \(narrow[5].text)")
        XCTAssertEqual(TopScreen.lines(Self.content(rows: 3), width: 80, height: 3).count, 3)
        XCTAssertEqual(TopScreen.lines(Self.content(rows: 3), width: 0, height: 0), [])
    }

    func testNamesFromProcessesAreEscaped() {
        var content = Self.content(rows: 1, name: "evil\u{1b}]0;pwned\u{07}")
        content.state.process = TopModel.ProcessName(pid: 4242, comm: "web\u{1b}[2J")
        let screen = TopScreen.lines(content, width: 120, height: 24).map(\.text).joined(separator: "\n")
        let snapshot = TopSnapshotText.text(content)
        for text in [screen, snapshot] {
            XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 }, text)
            XCTAssertTrue(text.contains("evil\\x1b]0;pwned\\x07_0"), text)
        }
        XCTAssertTrue(screen.contains("process: web\\x1b[2J (4242)"), screen)
    }

    func testSnapshotKeepsNamesWholeAndListsTheTopTwenty() {
        let snapshot = TopSnapshotText.text(Self.content(rows: 25))
        let lines = snapshot.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertTrue(lines[0].hasPrefix("pyrograph top: every Python process on the host, 99 Hz, cpu clock, 12.3 s: "))
        XCTAssertTrue(lines[2].hasSuffix("handler_0 (/very/long/path/to/the/service/module_0.py)"), String(lines[2]))
        XCTAssertEqual(lines.filter { $0.contains("handler_") }.count, TopSnapshotText.rowLimit)
        XCTAssertTrue(snapshot.contains("  ... 5 more\n"))
        XCTAssertTrue(snapshot.hasSuffix("\n\n"), "snapshots are separated by a blank line")
    }
}
