import Foundation
import XCTest

/// `record --interval`: a profile per window, named by the -o pattern, that
/// together hold every sample once; a window that cannot be written is
/// reported and the recording goes on.
final class IntervalRecordingTests: XCTestCase {
    private var burner: Process?

    override func setUpWithError() throws {
        let burn = try TestSupport.compileFixture("burn", into: try TestSupport.temporaryDirectory())
        burner = try Process.run(burn, arguments: ["20"])
    }

    override func tearDown() {
        burner?.terminate()
        burner?.waitUntilExit()
    }

    private func windowFiles(in directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("p-") }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// 4.5 s at --interval 1: five files (the last one half a window), one a
    /// second by name, whose samples add up to what the recording counted.
    func testWindowsHoldEverySampleOnce() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let result = try TestSupport.run("/usr/bin/timeout", ["30", try TestSupport.pyrographBinary(), "record", "--all",
                                                              "-d", "4.5", "--interval", "1",
                                                              "-o", directory.path + "/p-%Y%m%dT%H%M%S.folded"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let files = try windowFiles(in: directory)
        XCTAssertEqual(files.count, 5, "\(files.map(\.lastPathComponent))\n\(result.stderr)")
        let totals = try files.map { FoldedProfile(text: try String(contentsOf: $0, encoding: .utf8)).total }
        XCTAssertTrue(totals.dropLast().allSatisfy { $0 > 0 }, "\(totals)")
        let recorded = try XCTUnwrap(result.stderr.firstMatch(of: #/pyrograph: (\d+) samples/#).map { Int($0.1)! }, result.stderr)
        XCTAssertEqual(totals.reduce(0, +), recorded, "\(totals)\n\(result.stderr)")
        XCTAssertTrue(result.stderr.contains("wrote 5 profiles"), result.stderr)
        // Named one second apart, by each window's start.
        let formatter = DateFormatter()
        formatter.dateFormat = "'p-'yyyyMMdd'T'HHmmss'.folded'"
        let starts = files.compactMap { formatter.date(from: $0.lastPathComponent) }
        XCTAssertEqual(starts.count, 5)
        for (earlier, later) in zip(starts, starts.dropFirst()) {
            XCTAssertEqual(later.timeIntervalSince(earlier), 1, "\(files.map(\.lastPathComponent))")
        }
    }

    func testPathWithoutAPatternIsRefusedBeforeSampling() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        for (path, message) in [("p.svg", "needs a strftime pattern"), ("p-%H%M.svg", "would both be written to")] {
            let result = try TestSupport.run("/usr/bin/timeout", ["30", try TestSupport.pyrographBinary(), "record", "--all",
                                                                  "--interval", "1", "-o", directory.path + "/" + path])
            XCTAssertNotEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
            XCTAssertFalse(result.stderr.contains("recording"), result.stderr)
        }
    }

    /// A full disk for a few windows: each is reported, the others are
    /// written, and the recording runs to its end.
    func testFullDiskLosesOnlyItsWindows() throws {
        try TestSupport.requireRoot()
        let mount = try TestSupport.temporaryDirectory()
        XCTAssertEqual(try TestSupport.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "pyrograph-windows", mount.path]).status, 0)
        defer { _ = try? TestSupport.run("/bin/umount", [mount.path]) }
        let recording = try RunningRecording(arguments: ["record", "--all", "-d", "5.5", "--interval", "1",
                                                         "-o", mount.path + "/p-%H%M%S.folded"])
        try recording.waitUntilSampling()
        let filler = mount.appendingPathComponent("filler")
        let deadline = Date().addingTimeInterval(20)
        while !recording.stderr.contains("wrote \(mount.path)") && Date() < deadline { usleep(20_000) }
        _ = try TestSupport.run("/bin/dd", ["if=/dev/zero", "of=\(filler.path)", "bs=4k"])
        while recording.stderr.components(separatedBy: "pyrograph: window ").count < 3 && Date() < deadline { usleep(20_000) }
        try FileManager.default.removeItem(at: filler)
        let status = recording.wait()
        let stderr = recording.stderr
        XCTAssertEqual(status, 1, "windows were lost: the exit says so\n\(stderr)")
        XCTAssertTrue(stderr.contains("No space left on device; recording goes on"), stderr)
        let written = try windowFiles(in: mount)
        let lines = stderr.split(separator: "\n")
        let failed = lines.filter { $0.hasPrefix("pyrograph: window ") && $0.contains(" not written: ") }.count
        XCTAssertGreaterThanOrEqual(failed, 2, stderr)
        // Every window is written or said not to be: window k (from 1) is
        // named for its start, k - 1 seconds after the first's. 5.5 s make
        // 6 windows; a stop that came half a second late on a loaded host
        // makes 7, the seventh as short as the lateness.
        let seconds = written.compactMap { file -> Int? in
            guard let time = file.lastPathComponent.firstMatch(of: #/^p-(\d\d)(\d\d)(\d\d)\.folded$/#) else { return nil }
            return Int(time.1)! * 3600 + Int(time.2)! * 60 + Int(time.3)!
        }
        let firstSecond = try XCTUnwrap(seconds.first, stderr)
        let writtenWindows = seconds.map { ($0 - firstSecond + 86_400) % 86_400 + 1 }
        let failedWindows = lines.compactMap { $0.firstMatch(of: #/^pyrograph: window (\d+) not written: /#).map { Int($0.1)! } }
        let windows = (writtenWindows + failedWindows).sorted()
        XCTAssertEqual(windows, Array(1...max(windows.count, 1)), "\(written.map(\.lastPathComponent))\n\(stderr)")
        XCTAssertTrue((6...7).contains(windows.count), "\(windows.count) windows for -d 5.5 --interval 1\n\(stderr)")
        XCTAssertTrue(stderr.contains("windows not written: \(failed) (see above)"), stderr)
        // Windows after the disk had room again were written.
        let lastFailure = try XCTUnwrap(lines.lastIndex { $0.hasPrefix("pyrograph: window ") })
        let lastWritten = try XCTUnwrap(lines.lastIndex { $0.hasPrefix("pyrograph: wrote \(mount.path)") })
        XCTAssertGreaterThan(lastWritten, lastFailure, stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mount.path).filter { $0.hasPrefix(".") }, [],
                       "a failed window left its temporary file")
    }
}
