import Foundation
import XCTest

/// `pyrograph diff` on bad input: a clear message, a non-zero exit, and no
/// output file. Runs the binary under test; needs no root.
final class DiffCommandErrorTests: XCTestCase {
    private var directory: URL!
    private var good: URL!

    override func setUpWithError() throws {
        directory = try TestSupport.temporaryDirectory()
        good = try write("good.folded", "python3 (1);main (app.py:1) 3\n")
    }

    func testUnreadableMalformedAndEmptyInputsAreRefused() throws {
        let cases: [(before: URL, after: URL, message: String)] = [
            (directory.appendingPathComponent("missing.folded"), good, "missing.folded: No such file or directory"),
            (good, try write("bad.folded", "a;b 3\nnot a stack\n"), "bad.folded is not a valid folded profile: line 2 is not `frame;frame;... COUNT`"),
            (try write("empty.folded", ""), good, "empty.folded is empty"),
            (good, try write("blank.folded", "\n"), "blank.folded is empty"),
        ]
        for (index, (before, after, message)) in cases.enumerated() {
            let output = directory.appendingPathComponent("out\(index).svg")
            let result = try TestSupport.run(try TestSupport.pyrographBinary(),
                                             ["diff", before.path, after.path, "-o", output.path])
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains(message), "\(result.stderr) should say \(message)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "nothing written for \(message)")
        }
    }

    func testFormatFromTheExtensionOrAsked() throws {
        let folded = directory.appendingPathComponent("d.folded")
        XCTAssertEqual(try TestSupport.run(try TestSupport.pyrographBinary(),
                                           ["diff", good.path, good.path, "-o", folded.path]).status, 0)
        XCTAssertEqual(try String(contentsOf: folded, encoding: .utf8), "python3;main (app.py:1) 3 3\n")
        let asked = try TestSupport.run(try TestSupport.pyrographBinary(),
                                        ["diff", good.path, good.path, "-f", "svg", "-o", "-"])
        XCTAssertTrue(asked.stdout.hasPrefix("<?xml"), asked.stderr)
    }

    private func write(_ name: String, _ text: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }
}
