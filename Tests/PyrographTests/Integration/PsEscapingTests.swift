import Foundation
import XCTest

/// `pyrograph ps` prints argv from other processes: escaped, never raw.
final class PsEscapingTests: XCTestCase {
    /// argv with an OSC sequence (retitles a terminal) and a newline that
    /// would forge a second row of the table.
    func testPsEscapesArgv() throws {
        try TestSupport.requireRoot()
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = ["-c", "import time; time.sleep(60)", "\u{1b}]0;pwned\u{07}", "x\n99999  3.11.7  forged"]
        try python.run()
        defer { python.terminate(); python.waitUntilExit() }
        usleep(300_000)

        let result = try TestSupport.run(try TestSupport.pyrographBinary(), ["ps"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let row = result.stdout.split(separator: "\n").first { $0.hasPrefix("\(python.processIdentifier) ") }
        XCTAssertNotNil(row, result.stdout)
        XCTAssertTrue(row?.hasSuffix("\\x1b]0;pwned\\x07 x\\n99999  3.11.7  forged") ?? false, String(row ?? ""))
        XCTAssertFalse(result.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "a control character reached stdout")
        XCTAssertFalse(result.stdout.split(separator: "\n").contains { $0.hasPrefix("99999") }, "argv forged a row")
    }

}
