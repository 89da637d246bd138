import XCTest
@testable import Aggregation
@testable import Output

final class FoldedWriterTests: XCTestCase {
    func testMatchesGoldenFile() {
        var profile = Profile()
        let burn = Frame.process(comm: "burn", pid: 42)
        let main = Frame.native(symbol: "main", module: "burn")
        let outer = Frame.python(function: "outer", file: "app.py", line: 10)
        let inner = Frame.python(function: "inner", file: "app.py", line: 20)
        profile.add([burn, main, outer, inner], count: 3)
        profile.add([burn, main, outer, inner, .kernel(symbol: "do_syscall_64")])
        profile.add([burn, main, outer], count: 2)
        // A name may hold the separators of the format itself.
        profile.add([burn, main, .native(symbol: "weird;name\nsplit", module: nil)], count: 4)
        profile.add([Frame.process(comm: "idle", pid: 7), .annotation(.pythonStackTruncated(frames: 1024))])

        assertMatchesGolden(FoldedWriter.render(profile), named: "folded-basic.txt")
    }

    func testSeparatorsInNamesCannotSplitARecord() {
        var profile = Profile()
        profile.add([Frame.native(symbol: "a;b\nc\r\nd", module: nil)], count: 5)
        XCTAssertEqual(FoldedWriter.render(profile), "a:b c d 5\n")
    }

    func testEmptyProfileWritesNothing() {
        XCTAssertEqual(FoldedWriter.render(Profile()), "")
    }
}
