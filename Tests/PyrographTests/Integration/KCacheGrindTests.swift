import Foundation
import XCTest

/// KCacheGrind, the viewer the callgrind format is for, opens a real
/// recording: its parser warns about nothing, its window shows the file,
/// and a screenshot of it under Xvfb is a drawn window, not one colour.
final class KCacheGrindTests: XCTestCase {
    func testKCacheGrindOpensARealRecording() throws {
        try TestSupport.requireRoot()
        for tool in ["/usr/bin/kcachegrind", "/usr/bin/xvfb-run", "/usr/bin/dbus-run-session", "/usr/bin/import", "/usr/bin/xwininfo"] {
            guard FileManager.default.isExecutableFile(atPath: tool) else {
                return XCTFail("\(tool) is missing: `make deps` installs kcachegrind, xvfb, dbus, imagemagick and x11-utils")
            }
        }
        let directory = try TestSupport.temporaryDirectory()
        let python = try PythonInterpreters.require("3.12")
        let workload = try Process.run(URL(fileURLWithPath: python.path),
                                       arguments: [PythonInterpreters.script("mixed.py").path, "zlib", "600"])
        defer { if workload.isRunning { workload.terminate() } }
        usleep(400_000)
        let recording = directory.appendingPathComponent("mixed.callgrind")
        let recorded = try TestSupport.run(try TestSupport.pyrographBinary(),
                                           ["record", "-d", "1.5", "-o", recording.path, "-p", String(workload.processIdentifier)])
        XCTAssertEqual(recorded.status, 0, recorded.stderr)
        workload.terminate()

        let script = TestSupport.fixtures.appendingPathComponent("kcachegrind/screenshot.sh").path
        let shown = try TestSupport.run("/usr/bin/xvfb-run", ["-a", "-s", "-screen 0 1280x900x24", "/usr/bin/dbus-run-session", "--",
                                                              script, recording.path, directory.path])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        let log = (try? String(contentsOf: directory.appendingPathComponent("kcachegrind.log"), encoding: .utf8)) ?? ""
        // KCacheGrind's parser reports each line it cannot read as `Loading "FILE" : LINE : ...`.
        let warnings = log.split(separator: "\n").filter { $0.hasPrefix("Loading ") }
        XCTAssertTrue(warnings.isEmpty, "KCacheGrind could not read parts of the file:\n" + warnings.prefix(10).joined(separator: "\n"))
        let windows = try String(contentsOf: directory.appendingPathComponent("windows.txt"), encoding: .utf8)
        XCTAssertTrue(windows.contains("\(recording.path) — KCachegrind"), "no KCacheGrind window for the file:\n\(windows)")

        let screen = try PPMImage(contentsOf: directory.appendingPathComponent("screen.ppm"))
        XCTAssertEqual(screen.width, 1280)
        XCTAssertEqual(screen.height, 900)
        let histogram = screen.colourCounts()
        let commonest = histogram.values.max() ?? 0
        print("KCacheGrind screenshot: \(histogram.count) colours, the commonest covers "
            + "\(100 * commonest / max(screen.pixelCount, 1))% (\(directory.path)/screen.ppm)")
        XCTAssertGreaterThan(histogram.count, 50, "a screen of \(histogram.count) colours is not a drawn window")
        XCTAssertLessThan(Double(commonest), 0.95 * Double(screen.pixelCount), "the screenshot is nearly one colour")
    }
}

/// A binary PPM (P6, 8-bit), as ImageMagick's `import` writes it.
struct PPMImage {
    var width: Int
    var height: Int
    var pixels: [UInt8]

    var pixelCount: Int { width * height }

    init(contentsOf url: URL) throws {
        let data = [UInt8](try Data(contentsOf: url))
        var fields: [String] = []
        var index = 0
        // Header: P6, width, height, maximum value, separated by whitespace.
        while fields.count < 4, index < data.count {
            while index < data.count, data[index] == 0x20 || data[index] == 0x0a || data[index] == 0x0d || data[index] == 0x09 { index += 1 }
            let start = index
            while index < data.count, !(data[index] == 0x20 || data[index] == 0x0a || data[index] == 0x0d || data[index] == 0x09) { index += 1 }
            fields.append(String(decoding: data[start..<index], as: UTF8.self))
        }
        index += 1
        guard fields.count == 4, fields[0] == "P6", let width = Int(fields[1]), let height = Int(fields[2]), fields[3] == "255",
              data.count - index >= width * height * 3 else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: url.path])
        }
        self.width = width
        self.height = height
        pixels = Array(data[index..<(index + width * height * 3)])
    }

    /// Pixels per colour.
    func colourCounts() -> [UInt32: Int] {
        var counts: [UInt32: Int] = [:]
        var offset = 0
        while offset + 2 < pixels.count {
            counts[UInt32(pixels[offset]) << 16 | UInt32(pixels[offset + 1]) << 8 | UInt32(pixels[offset + 2]), default: 0] += 1
            offset += 3
        }
        return counts
    }
}
