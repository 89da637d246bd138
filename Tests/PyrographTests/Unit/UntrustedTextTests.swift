import Foundation
import XCTest
@testable import Aggregation
@testable import Output

/// Names and argv come from processes anyone can start; what pyrograph
/// prints or writes must not carry their control characters.
final class UntrustedTextTests: XCTestCase {
    func testControlCharactersBecomeVisibleEscapes() {
        XCTAssertEqual(UntrustedText.escaped("\u{1b}]0;pwned\u{07}"), "\\x1b]0;pwned\\x07")
        XCTAssertEqual(UntrustedText.escaped("a\nb\rc\td\0e\u{7f}\u{9b}"), "a\\nb\\rc\\td\\0e\\x7f\\x9b")
        XCTAssertEqual(UntrustedText.escaped("evil\u{202e}txt.py"), "evil\\u{202e}txt.py")
        XCTAssertEqual(UntrustedText.escaped("plain/path\\with ünïcode.py"), "plain/path\\with ünïcode.py")
    }

    func testFoldedOutputEncodesControlBytes() {
        var profile = Profile()
        profile.add([Frame(kind: .native, function: "esc\u{1b}[31m;soh\u{01}nul\u{00}end")], count: 2)
        let folded = FoldedWriter.render(profile)
        XCTAssertEqual(folded, "esc\\x1b[31m:soh\\x01nul\\0end 2\n")
        XCTAssertFalse(folded.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }

}
