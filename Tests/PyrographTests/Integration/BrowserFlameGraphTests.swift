import Foundation
import XCTest
@testable import Aggregation
@testable import Output

/// Runs the embedded script in a real browser: Debian's headless Chromium
/// loads the SVG with `?s=inner`, and the DOM it dumps afterwards shows what
/// the search did. A missing browser fails the test rather than skipping
/// it, so a machine without one cannot pass by accident.
final class BrowserFlameGraphTests: XCTestCase {
    static let highlightFill = "rgb(230,0,230)"

    private var workDirectory: URL!

    override func setUpWithError() throws {
        workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("pyrograph-browser-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        // KEEP_BROWSER_OUTPUT=1 leaves the SVG and the screenshot to look at.
        if ProcessInfo.processInfo.environment["KEEP_BROWSER_OUTPUT"] == "1" {
            print("browser test output kept in \(workDirectory.path)")
        } else {
            try? FileManager.default.removeItem(at: workDirectory)
        }
    }

    func testSearchFromURLHighlightsMatchingFrames() throws {
        let chromium = try Self.chromium()
        let svgFile = try writeSVG()

        let dom = try run(chromium, arguments: [
            "--virtual-time-budget=3000", "--dump-dom", svgFile.absoluteString + "?s=inner",
        ])
        let parsed = try ParsedSVG(dom)
        let frames = parsed.frames
        XCTAssertEqual(frames.count, 13, "every frame of the profile is drawn")

        let matching = frames.filter { $0.name.contains("inner") }
        XCTAssertEqual(Set(matching.map(\.name)), ["inner", "inner_loop"])
        XCTAssertEqual(matching.count, 3, "both frames named inner, and inner_loop")
        for frame in frames {
            if frame.name.contains("inner") {
                XCTAssertEqual(frame.fill, Self.highlightFill, "\(frame.name) should be highlighted")
            } else {
                XCTAssertNotEqual(frame.fill, Self.highlightFill, "\(frame.name) should not be highlighted")
            }
        }
        // inner spans 6 + 1 of 17 samples; inner_loop, nested inside, adds none.
        XCTAssertEqual(parsed.textByID["matched"], "Matched: 41.2%")
    }

    func testScreenshotShowsSomething() throws {
        let chromium = try Self.chromium()
        let svgFile = try writeSVG()
        let screenshot = workDirectory.appendingPathComponent("flamegraph.png")

        _ = try run(chromium, arguments: [
            "--virtual-time-budget=3000", "--screenshot=\(screenshot.path)", "--window-size=1200,600",
            svgFile.absoluteString + "?s=inner",
        ])
        let png = try XCTUnwrap(FileManager.default.contents(atPath: screenshot.path), "no screenshot written")
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        XCTAssertGreaterThan(png.count, 10_000, "a blank page compresses to far less")
    }

    /// A rare deep stack used to make the SVG as tall as itself, and the
    /// browser opened it on its empty top; a tower whose time is spent at
    /// the top opened on its empty base-less upper half or its bare trunk.
    /// Both must now open on frames. The same rare deep stack drawn at full
    /// height is the control: a blank first screen, as before.
    func testDeepGraphsOpenOnFramesNotOnABlankScreen() throws {
        var rare = Profile()
        let process = Frame.process(comm: "service", pid: 42)
        let serve = (0..<10).map { Frame.python(function: "serve_level\($0)", file: "service.py", line: $0) }
        for index in 0..<8 {
            rare.add([process] + serve + [.python(function: "handler\(index)", file: "service.py", line: 99)],
                     count: 125)
        }
        rare.add([process] + (0..<1000).map { Frame.python(function: "garbage\($0)") }, count: 1)

        var tower = Profile()
        let levels = (0..<300).map { Frame.python(function: "import_level\($0)", file: "importlib.py", line: $0) }
        for index in 0..<6 {
            tower.add([process] + levels + [.python(function: "exec_module\(index)")], count: 100)
        }

        let windowed = try colouredShare(FlameGraphWriter.render(rare, options: .init()), named: "rare")
        XCTAssertGreaterThan(windowed, 0.1, "the first screen shows the root and the handlers")
        let towerShare = try colouredShare(FlameGraphWriter.render(tower, options: .init()), named: "tower")
        XCTAssertGreaterThan(towerShare, 0.1, "the first screen shows the top of the tower")
        let icicle = try colouredShare(FlameGraphWriter.render(rare, options: .init(icicle: true)), named: "icicle")
        XCTAssertGreaterThan(icicle, 0.1, "an icicle graph opens on its root")

        let full = try colouredShare(FlameGraphWriter.render(rare, options: .init(maximumHeight: nil)), named: "full")
        XCTAssertLessThan(full, 0.01, "drawn at full height, the first screen is blank")
        print("coloured share of the first screen: rare \(windowed), tower \(towerShare), icicle \(icicle), full \(full)")
    }

    /// The wheel and the page keys pan a deep graph's window of levels. A
    /// test page frames the SVG, sends it the events, and copies what the
    /// graph then says into its own DOM, which Chromium dumps.
    func testWheelAndPageKeysPanOverTheLevels() throws {
        var rare = Profile()
        let process = Frame.process(comm: "service", pid: 42)
        rare.add([process, .python(function: "handler")], count: 1000)
        rare.add([process] + (0..<1000).map { Frame.python(function: "garbage\($0)") }, count: 1)
        let svg = FlameGraphWriter.render(rare, options: .init())
        try Data(svg.utf8).write(to: workDirectory.appendingPathComponent("deep.svg"))
        let page = workDirectory.appendingPathComponent("pan.html")
        try Data("""
            <!DOCTYPE html><html><body><iframe id="graph" src="deep.svg" width="1200" height="800"></iframe>
            <pre id="out"></pre><script>
            document.getElementById("graph").addEventListener("load", function () {
                var graph = this.contentWindow, document_ = this.contentDocument, seen = [];
                function levels() { seen.push(document_.getElementById("levels").textContent); }
                levels();
                graph.dispatchEvent(new graph.WheelEvent("wheel", { deltaY: -160, cancelable: true }));
                levels();
                graph.dispatchEvent(new graph.KeyboardEvent("keydown", { key: "PageUp", cancelable: true }));
                levels();
                graph.dispatchEvent(new graph.WheelEvent("wheel", { deltaY: 100000, cancelable: true }));
                levels();
                graph.dispatchEvent(new graph.KeyboardEvent("keydown", { key: "PageUp", cancelable: true }));
                graph.dispatchEvent(new graph.WheelEvent("wheel", { deltaY: -100000, cancelable: true }));
                levels();
                document.getElementById("out").textContent = seen.join("\\n");
            });
            </script></body></html>
            """.utf8).write(to: page)

        let dom = try HeadlessChromium(workDirectory: workDirectory).dumpDOM(page, framedFiles: true)
        let output = try XCTUnwrap(dom.range(of: "<pre id=\"out\">").map { dom[$0.upperBound...] })
        let seen = output.prefix { $0 != "<" }.split(separator: "\n").map(String.init)
        XCTAssertEqual(seen, [
            "levels 0\u{2013}43 of 0\u{2013}1001: scroll for the rest",
            "levels 10\u{2013}53 of 0\u{2013}1001: scroll for the rest",
            "levels 53\u{2013}96 of 0\u{2013}1001: scroll for the rest",
            "levels 0\u{2013}43 of 0\u{2013}1001: scroll for the rest",
            "levels 958\u{2013}1001 of 0\u{2013}1001: scroll for the rest",
        ], "opens on the root, moves ten levels for 160 px, a page less one level, stops at either end")
    }

    // MARK: - Helpers

    /// The share of strongly coloured pixels in the first screen (1200 by
    /// 800) Chromium shows of this SVG.
    private func colouredShare(_ svg: String, named name: String) throws -> Double {
        let svgFile = workDirectory.appendingPathComponent("\(name).svg")
        try Data(svg.utf8).write(to: svgFile)
        let screenshot = workDirectory.appendingPathComponent("\(name).png")
        _ = try run(Self.chromium(), arguments: [
            "--virtual-time-budget=3000", "--screenshot=\(screenshot.path)", "--window-size=1200,800",
            svgFile.absoluteString,
        ])
        let script = TestSupport.packageRoot.appendingPathComponent("Tests/PyrographTests/Fixtures/browser/coloured_share.py")
        let output = try runTool(URL(fileURLWithPath: "/usr/bin/python3"), arguments: [script.path, screenshot.path])
        return try XCTUnwrap(Double(output.trimmingCharacters(in: .whitespacesAndNewlines)), "python printed \(output)")
    }

    /// Stacks as `burn (42);main;outer;inner`, with a second `inner` under
    /// another caller and a match nested inside a match.
    static func profile() -> Profile {
        var profile = Profile()
        let burn = Frame.process(comm: "burn", pid: 42)
        let main = Frame.native(symbol: "main", module: nil)
        let outer = Frame.python(function: "outer")
        let inner = Frame.python(function: "inner")
        profile.add([burn, main, outer, inner], count: 3)
        profile.add([burn, main, outer, inner, Frame.python(function: "inner_loop")], count: 2)
        profile.add([burn, main, outer, inner, .kernel(symbol: "do_syscall_64")])
        profile.add([burn, main, outer, Frame.python(function: "compute")], count: 2)
        profile.add([burn, main, Frame.python(function: "helper"), inner])
        profile.add([burn, main, Frame.python(function: "idle")], count: 5)
        profile.add([.process(comm: "other", pid: 7), Frame.python(function: "run")], count: 3)
        return profile
    }

    private func writeSVG() throws -> URL {
        let svg = FlameGraphWriter.render(Self.profile(), options: .init(subtitle: "17 samples, 99 Hz"))
        let file = workDirectory.appendingPathComponent("flamegraph.svg")
        try Data(svg.utf8).write(to: file)
        return file
    }

    static func chromium() throws -> URL {
        let fileManager = FileManager.default
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/chromium" } + ["/usr/bin/chromium"]
        guard let found = candidates.first(where: { fileManager.isExecutableFile(atPath: $0) }) else {
            throw BrowserError(
                description: "Chromium is not installed (looked on PATH and at /usr/bin/chromium); run `make deps`")
        }
        return URL(fileURLWithPath: found)
    }

    /// Headless, without the sandbox (tests run as root) and with a profile
    /// of its own, so runs do not share state. Output goes to files, which
    /// cannot fill up and block the way a pipe can.
    private func run(_ chromium: URL, arguments: [String]) throws -> String {
        try runTool(chromium, arguments: [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--user-data-dir=\(workDirectory.appendingPathComponent("chromium-profile").path)",
        ] + arguments)
    }

    private func runTool(_ tool: URL, arguments: [String]) throws -> String {
        let stdout = workDirectory.appendingPathComponent("stdout-\(UUID().uuidString)")
        let stderr = workDirectory.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)

        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()

        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw BrowserError(description: "\(tool.lastPathComponent) did not finish in 120 s: \(Self.tail(of: stderr))")
        }
        guard process.terminationStatus == 0 else {
            throw BrowserError(
                description: "\(tool.lastPathComponent) exited with \(process.terminationStatus): \(Self.tail(of: stderr))")
        }
        return String(decoding: FileManager.default.contents(atPath: stdout.path) ?? Data(), as: UTF8.self)
    }

    private static func tail(of file: URL) -> String {
        let text = String(decoding: FileManager.default.contents(atPath: file.path) ?? Data(), as: UTF8.self)
        return String(text.suffix(2000))
    }

    struct BrowserError: Error, CustomStringConvertible {
        let description: String
    }
}
