@testable import Recording
import XCTest

/// The command line a process frame shows: one line, bounded.
final class ProcessNamingTests: XCTestCase {
    func testControlCharactersBecomeSpacesAndLongLinesAreCut() {
        XCTAssertEqual(ProcessNaming.sanitized("python3 -c import os\nprint(1)\t x"), "python3 -c import os print(1)  x")
        XCTAssertEqual(ProcessNaming.sanitized("  gunicorn: worker  "), "gunicorn: worker")
        XCTAssertNil(ProcessNaming.sanitized(" \n "))
        let long = String(repeating: "a", count: 500)
        XCTAssertEqual(ProcessNaming.sanitized(long), String(repeating: "a", count: ProcessNaming.commandLineLimit) + "...")
    }
}
