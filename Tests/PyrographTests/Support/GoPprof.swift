import Foundation
import XCTest

/// Go's `go tool pprof`, the reference reader of the pprof format, run on
/// a file: Debian's golang-go (make deps installs it).
enum GoPprof {
    static let go = "/usr/bin/go"

    static func run(_ arguments: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: go) else {
            throw XCTSkip("go is not installed (make deps installs golang-go)")
        }
        // No symbolization: the file's names are all there is, and pprof
        // must not go looking for binaries or servers.
        let result = try TestSupport.run("/usr/bin/env", ["PPROF_BINARY_PATH=/nonexistent", "PPROF_TMPDIR=/tmp",
                                                          go, "tool", "pprof", "-symbolize=none"] + arguments)
        XCTAssertEqual(result.status, 0, "go tool pprof \(arguments): \(result.stderr)")
        return result.stdout
    }

    /// `-top`'s rows: function name → (flat, flat%, cum, cum%), values in
    /// the sample type asked for (`-sample_index`).
    struct Row: Equatable {
        var flat: Double
        var flatShare: Double
        var cumulative: Double
        var cumulativeShare: Double
    }

    static func top(_ path: String, sampleIndex: String) throws -> [String: Row] {
        try table(path, sampleIndex: sampleIndex).rows
    }

    /// Every row of `-top` (no node dropped for being small), by name,
    /// and the sum of the flat column over all rows, names shared or not.
    static func table(_ path: String, sampleIndex: String) throws -> (rows: [String: Row], flatSum: Double) {
        let text = try run(["-top", "-nodecount=1000000", "-nodefraction=0", "-sample_index=\(sampleIndex)", path])
        var rows: [String: Row] = [:]
        var flatSum = 0.0
        var inTable = false
        for line in text.split(separator: "\n") {
            if line.contains("flat%") && line.contains("cum%") { inTable = true; continue }
            guard inTable else { continue }
            // "  5  31.25% 31.25%  11  68.75%  parse": five columns, then the name.
            let columns = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard columns.count == 6, let flat = number(columns[0]), let flatShare = percent(columns[1]),
                  let cumulative = number(columns[3]), let cumulativeShare = percent(columns[4]) else { continue }
            flatSum += flat
            rows[String(columns[5].drop { $0 == " " })] = Row(flat: flat, flatShare: flatShare, cumulative: cumulative,
                                                               cumulativeShare: cumulativeShare)
        }
        return (rows, flatSum)
    }

    /// "11", "0.11s", "110ms": a count, or seconds for time.
    private static func number(_ text: Substring) -> Double? {
        for (suffix, scale) in [("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("s", 1.0), ("", 1.0)] where text.hasSuffix(suffix) {
            if let value = Double(text.dropLast(suffix.count)) { return value * scale }
        }
        return nil
    }

    private static func percent(_ text: Substring) -> Double? {
        text.hasSuffix("%") ? Double(text.dropLast()) : nil
    }
}
