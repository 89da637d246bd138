import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Aggregation
@testable import Output

final class FlameGraphWriterTests: XCTestCase {
    /// Stub assets keep the golden file about the layout and escaping; the
    /// real assets are checked by `testEmbeddedAssetsAreTheSourceFiles`.
    func testMatchesGoldenFile() {
        let svg = FlameGraphWriter.render(
            Self.hostileProfile(),
            options: .init(title: "pyrograph <test> & \"friends\"", subtitle: "11 samples, 99 Hz, 1 s"),
            script: "/* flamegraph.js */",
            style: "/* flamegraph.css */"
        )
        assertMatchesGolden(svg, named: "flamegraph-basic.svg")
    }

    func testHostileNamesStayWellFormedAndReadBack() throws {
        let svg = FlameGraphWriter.render(Self.hostileProfile(), options: .init())
        let parsed = try ParsedSVG(svg)
        let names = Set(parsed.frames.map(\.name))
        XCTAssertTrue(names.contains("<module> (app.py:1)"))
        XCTAssertTrue(names.contains("operator&& [libfoo.so]"))
        XCTAssertTrue(names.contains(#"say "hi" 'there' (app.py:9)"#))
        XCTAssertTrue(names.contains("bad\u{FFFD}name"), "a control character becomes U+FFFD")
        XCTAssertEqual(parsed.textByID["title"], "pyrograph")
        XCTAssertFalse(svg.contains("\u{01}"))
    }

    func testEmbeddedAssetsAreTheSourceFiles() throws {
        let assets = TestSupport.packageRoot.appendingPathComponent("Sources/Output/Assets")
        let script = try String(contentsOf: assets.appendingPathComponent("flamegraph.js"), encoding: .utf8)
        let style = try String(contentsOf: assets.appendingPathComponent("flamegraph.css"), encoding: .utf8)
        XCTAssertTrue(Array(EmbeddedAssets.flamegraphJS.utf8) == Array(script.utf8))
        XCTAssertTrue(Array(EmbeddedAssets.flamegraphCSS.utf8) == Array(style.utf8))

        let parsed = try ParsedSVG(FlameGraphWriter.render(Self.hostileProfile(), options: .init()))
        XCTAssertEqual(parsed.cdataByElement["script"], script)
        XCTAssertEqual(parsed.cdataByElement["style"], style)
    }

    func testCDATATerminatorInAssetsIsSplit() throws {
        let script = "if (a[b[0]]>1) { x = \"]]>\"; }"
        let svg = FlameGraphWriter.render(Self.hostileProfile(), options: .init(), script: script, style: "/*]]>*/")
        let parsed = try ParsedSVG(svg)
        XCTAssertEqual(parsed.cdataByElement["script"], script)
        XCTAssertEqual(parsed.cdataByElement["style"], "/*]]>*/")
    }

    func testEmptyProfileSaysNoSamples() throws {
        let parsed = try ParsedSVG(FlameGraphWriter.render(Profile(), options: .init()))
        XCTAssertEqual(parsed.textByID["no-samples"], "no samples")
        XCTAssertTrue(parsed.frames.isEmpty)
    }

    func testRootAtBottomAndChildrenInNameOrder() throws {
        var profile = Profile()
        let process = Frame.process(comm: "app", pid: 1)
        profile.add([process, Frame.python(function: "zeta")], count: 1)
        profile.add([process, Frame.python(function: "alpha")], count: 3)
        profile.add([process, Frame.python(function: "mid"), Frame.native(symbol: "leaf", module: nil)], count: 2)
        let frames = try ParsedSVG(FlameGraphWriter.render(profile, options: .init(width: 1020))).frames
        let byName = Dictionary(uniqueKeysWithValues: frames.map { ($0.name, $0) })

        let root = try XCTUnwrap(byName["all"])
        XCTAssertEqual(root.samples, 6)
        XCTAssertEqual(root.width, 1000)
        XCTAssertEqual(frames.map(\.y).max(), root.y, "the root is the lowest frame")
        XCTAssertLessThan(try XCTUnwrap(byName["leaf"]).y, try XCTUnwrap(byName["mid"]).y)

        let alpha = try XCTUnwrap(byName["alpha"])
        let mid = try XCTUnwrap(byName["mid"])
        let zeta = try XCTUnwrap(byName["zeta"])
        XCTAssertEqual(alpha.x, 10)
        XCTAssertEqual(alpha.width, 500)
        XCTAssertEqual(mid.x, 510)
        XCTAssertEqual(zeta.x, 510 + mid.width, accuracy: 0.01)
        XCTAssertEqual(alpha.title, "alpha (3 samples, 50.00%)")
        XCTAssertEqual(zeta.title, "zeta (1 sample, 16.67%)")
    }

    func testFramesNarrowerThanTheMinimumAreLeftOut() throws {
        var profile = Profile()
        let process = Frame.process(comm: "app", pid: 1)
        profile.add([process, Frame.python(function: "busy")], count: 100_000)
        profile.add([process, Frame.python(function: "rare"), Frame.python(function: "rarer")], count: 1)
        let names = try ParsedSVG(FlameGraphWriter.render(profile, options: .init())).frames.map(\.name)
        XCTAssertEqual(names, ["all", "app (1)", "busy"])
        let everything = FlameGraphWriter.render(profile, options: .init(minimumFrameWidth: 0))
        XCTAssertEqual(try ParsedSVG(everything).frames.count, 5)
    }

    func testColoursAreStableAndFollowTheKind() throws {
        var profile = Profile()
        profile.add([Frame.process(comm: "app", pid: 1), .python(function: "work", file: "a.py", line: 1),
                     .native(symbol: "memcpy", module: "libc.so.6"), .kernel(symbol: "clear_page")])
        let first = try ParsedSVG(FlameGraphWriter.render(profile, options: .init())).frames
        let second = try ParsedSVG(FlameGraphWriter.render(profile, options: .init())).frames
        XCTAssertEqual(first.map(\.fill), second.map(\.fill))
        let fills = Dictionary(uniqueKeysWithValues: first.map { ($0.kind, Self.rgb($0.fill)) })

        let python = try XCTUnwrap(fills["python"])
        XCTAssertGreaterThan(python.green, python.red, "python frames are green")
        let native = try XCTUnwrap(fills["native"])
        XCTAssertGreaterThan(native.red, native.blue, "native frames are warm")
        let process = try XCTUnwrap(fills["process"])
        XCTAssertGreaterThan(process.blue, process.red, "process frames are grey-blue")
    }

    func testCutLabelsKeepTheFunctionThenAShortLocation() {
        let frame = Frame.python(function: "_find_and_load", file: "/usr/lib/python3.11/importlib/_bootstrap.py", line: 1176)
        let labels = FlameGraphLabel.candidates(name: FrameNaming.displayName(frame), frame: frame)
        XCTAssertEqual(labels, [
            "_find_and_load (/usr/lib/python3.11/importlib/_bootstrap.py:1176)",
            "_find_and_load (_bootstrap.py:1176)",
            "_find_and_load",
        ])
        func fitted(_ characters: Double) -> String {
            FlameGraphLabel.fitted(labels, width: characters * 7.2 + 6, padding: 3, charWidth: 7.2)
        }
        XCTAssertEqual(fitted(80), labels[0])
        XCTAssertEqual(fitted(40), "_find_and_load (_bootstrap.py:1176)")
        XCTAssertEqual(fitted(20), "_find_and_load")
        XCTAssertEqual(fitted(10), "_find_an..", "only then is the function cut")
        XCTAssertEqual(fitted(2), "")

        let native = Frame.native(symbol: "PyObject_Vectorcall", module: "libpython3.11.so.1.0")
        XCTAssertEqual(FlameGraphLabel.candidates(name: FrameNaming.displayName(native), frame: native),
                       ["PyObject_Vectorcall [libpython3.11.so.1.0]", "PyObject_Vectorcall"])
        let annotation = Frame.annotation(.stackTableFull)
        XCTAssertEqual(FlameGraphLabel.candidates(name: FrameNaming.displayName(annotation), frame: annotation),
                       ["[stack table full]"])
    }

    func testNarrowFramesShowTheirFunctionNotTheirDirectory() throws {
        var profile = Profile()
        let process = Frame.process(comm: "app", pid: 1)
        let deepFile = "/srv/app/.venv/lib/python3.12/site-packages/requests/sessions.py"
        profile.add([process, .python(function: "Session.request", file: deepFile, line: 589)], count: 1)
        profile.add([process, .python(function: "idle")], count: 3)
        // A quarter of 1180 px holds 40 characters: not the path, but the file.
        let frames = try ParsedSVG(FlameGraphWriter.render(profile, options: .init())).frames
        let request = try XCTUnwrap(frames.first { $0.name.hasPrefix("Session.request") })
        XCTAssertEqual(request.label, "Session.request (sessions.py:589)")
        XCTAssertEqual(request.name, "Session.request (\(deepFile):589)", "the title keeps the whole name")
    }

    func testWindowOpensWhereTheMostSamplesEnd() {
        // Coverage per level, root first: samples end at the levels where it drops.
        XCTAssertEqual(FlameGraphWindow(coverage: [10, 10, 10, 10], levels: 4).firstLevel, 0, "all fits")
        XCTAssertEqual(FlameGraphWindow(coverage: [10, 10, 10, 10, 10, 10], levels: 2).firstLevel, 4,
                       "a tower whose samples all end on top")
        XCTAssertEqual(FlameGraphWindow(coverage: [10, 9, 1, 1, 1, 1], levels: 2).firstLevel, 0,
                       "a rare deep stack: most end near the root")
        XCTAssertEqual(FlameGraphWindow(coverage: [10, 5, 5, 5, 5, 0], levels: 2).firstLevel, 0,
                       "a tie goes to the window nearest the root")
    }

    func testDeepGraphIsCutToTheMaximumHeightAroundItsBusiestLevels() throws {
        var profile = Profile()
        let process = Frame.process(comm: "app", pid: 1)
        let tower = (0..<300).map { Frame.python(function: "level\($0)", file: "tower.py", line: $0) }
        profile.add([process] + tower + [.python(function: "leaf", file: "tower.py", line: 999)], count: 50)
        profile.add([process, .python(function: "shallow")], count: 10)
        let svg = FlameGraphWriter.render(profile, options: .init(subtitle: "s", maximumHeight: 800))
        let parsed = try ParsedSVG(svg)
        let height = try XCTUnwrap(Self.documentHeight(svg))
        XCTAssertLessThanOrEqual(height, 800)
        let bottom = height - Double(2 * 16 + 4)
        func visible(_ name: String) throws -> Bool {
            let frame = try XCTUnwrap(parsed.frames.first { $0.name.hasPrefix(name + " ") || $0.name == name })
            return frame.y >= 54 && frame.y + 16 <= bottom + 0.01
        }
        XCTAssertTrue(try visible("leaf"), "the tower's top, where its samples end, shows")
        XCTAssertFalse(try visible("all"), "the root is below the window")
        XCTAssertEqual(parsed.frames.count, 304, "every frame is drawn, for the script to pan to")
        XCTAssertTrue(parsed.textByID["levels"]?.hasPrefix("levels 259\u{2013}302 of 0\u{2013}302") == true,
                      parsed.textByID["levels"] ?? "no levels line")

        let full = FlameGraphWriter.render(profile, options: .init(subtitle: "s", maximumHeight: nil))
        XCTAssertTrue(full.contains(#"height="4938""#), "without a maximum, every level is drawn")
        XCTAssertNil(try ParsedSVG(full).textByID["levels"])
    }

    // MARK: - Fixtures

    /// Names chosen to break naive SVG output.
    static func hostileProfile() -> Profile {
        var profile = Profile()
        let process = Frame.process(comm: "python3", pid: 1234)
        let thread = Frame.thread(name: "MainThread", tid: 1234)
        let module = Frame.python(function: "<module>", file: "app.py", line: 1)
        let eval = Frame.native(symbol: "_PyEval_EvalFrameDefault", module: "libpython3.11.so.1.0")
        let loadConfig = Frame.python(function: "load_config", file: "cfg.py", line: 3)
        profile.add([process, thread, module, eval, loadConfig], count: 4)
        profile.add([process, thread, module, eval, .native(symbol: "operator&&", module: "libfoo.so")], count: 2)
        profile.add([process, thread, module, .python(function: #"say "hi" 'there'"#, file: "app.py", line: 9)])
        profile.add([process, thread, module, Frame.native(symbol: "bad\u{01}name", module: nil)])
        profile.add([process, thread, .kernel(symbol: "do_syscall_64")], count: 2)
        profile.add([process, .annotation(.pythonStackTruncated(frames: 1024))])
        return profile
    }

    /// The `height` of the `<svg>` element.
    static func documentHeight(_ svg: String) -> Double? {
        guard let svgStart = svg.range(of: "<svg "),
              let attribute = svg.range(of: " height=\"", range: svgStart.upperBound..<svg.endIndex),
              let end = svg[attribute.upperBound...].firstIndex(of: "\"") else { return nil }
        return Double(svg[attribute.upperBound..<end])
    }

    static func rgb(_ fill: String) -> (red: Int, green: Int, blue: Int) {
        let parts = fill.dropFirst("rgb(".count).dropLast().split(separator: ",").compactMap { Int($0) }
        return parts.count == 3 ? (parts[0], parts[1], parts[2]) : (-1, -1, -1)
    }
}

// MARK: - Reading an SVG back

/// The parts of a flame graph SVG the tests look at, read with a real XML
/// parser, which also proves the document well-formed. Used for the writer's
/// output and for the DOM a browser dumps after running the script.
final class ParsedSVG: NSObject, XMLParserDelegate {
    struct FrameElement {
        var kind = ""
        var samples = 0
        var title = ""
        var fill = ""
        var label = ""
        var x = 0.0
        var y = 0.0
        var width = 0.0
        var classes: Set<String> = []
        /// Every attribute of the frame's `<g>`.
        var attributes: [String: String] = [:]

        /// As the script reads it: the title without its "(N samples, P%)".
        var name: String {
            guard let suffix = title.range(of: " (", options: .backwards) else { return title }
            return String(title[..<suffix.lowerBound])
        }
    }

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    private(set) var frames: [FrameElement] = []
    /// The text of every `<text>` with an id.
    private(set) var textByID: [String: String] = [:]
    /// CDATA sections joined per element name, as a script would see them.
    private(set) var cdataByElement: [String: String] = [:]

    private var elementNames: [String] = []
    private var currentFrame: FrameElement?
    private var currentTextID: String?
    private var characters = ""

    init(_ svg: String) throws {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        guard parser.parse() else {
            let reason = parser.parserError.map { "\($0)" } ?? "unknown error"
            throw ParseError(description: "not well-formed XML at line \(parser.lineNumber): \(reason)")
        }
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        elementNames.append(elementName)
        characters = ""
        switch elementName {
        case "g" where (attributes["class"] ?? "").split(separator: " ").contains("frame"):
            currentFrame = FrameElement(
                kind: attributes["data-kind"] ?? "",
                samples: Int(attributes["data-samples"] ?? "") ?? -1,
                classes: Set((attributes["class"] ?? "").split(separator: " ").map(String.init)),
                attributes: attributes
            )
        case "rect" where currentFrame != nil:
            currentFrame?.fill = attributes["fill"] ?? ""
            currentFrame?.x = Double(attributes["x"] ?? "") ?? .nan
            currentFrame?.y = Double(attributes["y"] ?? "") ?? .nan
            currentFrame?.width = Double(attributes["width"] ?? "") ?? .nan
        case "text":
            currentTextID = attributes["id"]
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        characters += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        cdataByElement[elementNames.last ?? "", default: ""] += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
    ) {
        elementNames.removeLast()
        switch elementName {
        case "title" where currentFrame != nil:
            currentFrame?.title = characters
        case "text" where currentFrame != nil:
            currentFrame?.label = characters
        case "text":
            if let id = currentTextID { textByID[id] = characters }
            currentTextID = nil
        case "g":
            if let frame = currentFrame { frames.append(frame) }
            currentFrame = nil
        default:
            break
        }
    }
}
