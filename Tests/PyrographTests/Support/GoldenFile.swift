import Foundation
import XCTest

/// Expected outputs kept as files under `Tests/PyrographTests/Golden`.
///
/// Found next to this source file rather than through `Bundle.module`, so
/// that `BLESS=1 swift test` writes the new expectations back into the
/// source tree, where they can be reviewed and committed; the bundle copy is
/// only a fallback for runs without the sources.
enum GoldenFile {
    static let sourceDirectory = TestSupport.packageRoot
        .appendingPathComponent("Tests/PyrographTests/Golden", isDirectory: true)

    static var isBlessing: Bool {
        ProcessInfo.processInfo.environment["BLESS"] == "1"
    }

    static func url(named name: String) -> URL {
        let inSources = sourceDirectory.appendingPathComponent(name)
        if isBlessing || FileManager.default.fileExists(atPath: inSources.path) { return inSources }
        return Bundle.module.url(forResource: "Golden", withExtension: nil)?
            .appendingPathComponent(name) ?? inSources
    }

    /// The first line where two texts differ, numbered from 1, with both
    /// lines; nil when they are equal. Compares bytes: `String ==` treats
    /// canonically equivalent text as equal, and a golden file should not.
    static func firstDifference(expected: String, actual: String) -> (line: Int, expected: String, actual: String)? {
        let expectedLines = Array(expected.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let actualLines = Array(actual.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for index in 0..<max(expectedLines.count, actualLines.count) {
            let wanted = index < expectedLines.count ? Array(expectedLines[index]) : nil
            let got = index < actualLines.count ? Array(actualLines[index]) : nil
            if wanted != got {
                func text(_ bytes: [UInt8]?) -> String {
                    bytes.map { String(decoding: $0, as: UTF8.self).debugDescription } ?? "<end of file>"
                }
                return (index + 1, text(wanted), text(got))
            }
        }
        return nil
    }
}

/// Fails unless `actual` equals the golden file `name`; with `BLESS=1` in
/// the environment, rewrites the golden file instead.
func assertMatchesGolden(
    _ actual: String,
    named name: String,
    file: StaticString = #filePath,
    line: UInt = #line
) {
    let url = GoldenFile.url(named: name)
    if GoldenFile.isBlessing {
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: url, options: .atomic)
        } catch {
            XCTFail("could not bless \(url.path): \(error)", file: file, line: line)
        }
        return
    }
    guard let data = FileManager.default.contents(atPath: url.path) else {
        XCTFail("no golden file \(url.path); run `BLESS=1 swift test` to create it", file: file, line: line)
        return
    }
    let expected = String(decoding: data, as: UTF8.self)
    guard let difference = GoldenFile.firstDifference(expected: expected, actual: actual) else { return }
    XCTFail(
        """
        output differs from \(url.path) at line \(difference.line):
          expected: \(difference.expected)
          actual:   \(difference.actual)
        if the change is intended, rerun the test with BLESS=1 in the environment
        """,
        file: file, line: line
    )
}
