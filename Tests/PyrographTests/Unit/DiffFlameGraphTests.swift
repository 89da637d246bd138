import Foundation
import XCTest
@testable import Aggregation
@testable import Output

final class DiffFlameGraphTests: XCTestCase {
    static let process = Frame.process(comm: "app", pid: 100)
    static let work = Frame.python(function: "work", file: "app.py", line: 3)
    static let idle = Frame.python(function: "idle", file: "app.py", line: 9)

    /// `work` takes `workShare` of `total` samples, `idle` the rest.
    static func profile(pid: Int32 = 100, total: UInt64, work workSamples: UInt64) -> Profile {
        var profile = Profile()
        let process = Frame.process(comm: "app", pid: pid)
        profile.add([process, work], count: workSamples)
        profile.add([process, idle], count: total - workSamples)
        return profile
    }

    private func frames(_ diff: ProfileDiff) throws -> [String: ParsedSVG.FrameElement] {
        let svg = DiffFlameGraphWriter.render(diff, options: .init(title: "diff"), script: "", style: "")
        return Dictionary(try ParsedSVG(svg).frames.map { ($0.name, $0) }) { first, _ in first }
    }

    func testProfileAgainstItselfShowsNoChange() throws {
        let profile = FlameGraphWriterTests.hostileProfile()
        let diff = try ProfileDiff(before: profile, after: profile)
        let frames = try frames(diff)
        XCTAssertEqual(frames.count, 11)
        for frame in frames.values {
            XCTAssertEqual(frame.fill, "rgb(255,255,255)", frame.title)
            XCTAssertTrue(frame.title.hasSuffix(", +0.00 points, +0.0%)"), frame.title)
            XCTAssertEqual(frame.attributes["data-baseline"], "\(frame.samples)")
        }
        for line in DiffFoldedWriter().rendered(diff).split(separator: "\n") {
            let fields = line.split(separator: " ")
            XCTAssertEqual(fields[fields.count - 2], fields[fields.count - 1], String(line))
        }
    }

    func testDoubledShareIsFullRedWithBothValues() throws {
        let diff = try ProfileDiff(before: Self.profile(pid: 1, total: 100, work: 25),
                                   after: Self.profile(pid: 2, total: 100, work: 50))
        let frames = try frames(diff)
        let work = try XCTUnwrap(frames["work (app.py:3)"], "processes match whatever their pids")
        XCTAssertEqual(work.title, "work (app.py:3) (before 25 samples 25.00%, after 50 samples 50.00%, +25.00 points, +100.0%)")
        XCTAssertEqual(work.fill, "rgb(255,55,55)")
        XCTAssertEqual(work.width, 590, "widths from AFTER")
        let idle = try XCTUnwrap(frames["idle (app.py:9)"])
        XCTAssertTrue(idle.title.hasSuffix("-25.00 points, -33.3%)"), idle.title)
        // 75 → 50 is 1.5 times less: half the way to full blue.
        XCTAssertEqual(idle.fill, "rgb(155,155,255)")
        XCTAssertEqual(try XCTUnwrap(frames["app"]).fill, "rgb(255,255,255)")
    }

    func testNormalizedUnlessAskedNot() throws {
        // Twice as long a recording with the same shares.
        let before = Self.profile(total: 100, work: 25)
        let after = Self.profile(total: 200, work: 50)
        let normalized = try frames(ProfileDiff(before: before, after: after))
        let work = try XCTUnwrap(normalized["work (app.py:3)"])
        XCTAssertEqual(work.fill, "rgb(255,255,255)")
        XCTAssertTrue(work.title.hasSuffix("(before 25 samples 25.00%, after 50 samples 25.00%, +0.00 points, +0.0%)"), work.title)
        XCTAssertEqual(DiffFoldedWriter().rendered(try ProfileDiff(before: before, after: after)),
                       "app;idle (app.py:9) 150 150\napp;work (app.py:3) 50 50\n")

        let raw = try ProfileDiff(before: before, after: after, normalized: false)
        let rawWork = try XCTUnwrap(try frames(raw)["work (app.py:3)"])
        XCTAssertEqual(rawWork.fill, "rgb(255,55,55)")
        XCTAssertTrue(rawWork.title.hasSuffix("after 50 samples 25.00%, +25 samples, +100.0%)"), rawWork.title)
        XCTAssertEqual(DiffFoldedWriter().rendered(raw), "app;idle (app.py:9) 75 150\napp;work (app.py:3) 25 50\n")
    }

    func testNewAndVanishedFrames() throws {
        var before = Self.profile(total: 10, work: 5)
        before.add([Self.process, .python(function: "gone")], count: 10)
        var after = Self.profile(total: 10, work: 5)
        after.add([Self.process, .python(function: "fresh")], count: 10)
        let diff = try ProfileDiff(before: before, after: after)
        let frames = try frames(diff)
        let fresh = try XCTUnwrap(frames["fresh"])
        XCTAssertEqual(fresh.fill, "rgb(255,55,55)")
        XCTAssertTrue(fresh.title.hasSuffix(", new)"), fresh.title)
        let gone = try XCTUnwrap(frames["gone"], "kept for the search, without width")
        XCTAssertEqual(gone.width, 0)
        XCTAssertTrue(gone.classes.contains("hidden"))
        XCTAssertEqual(gone.attributes["data-baseline"], "10")
        XCTAssertEqual(DiffFoldedWriter().rendered(diff),
                       "app;fresh 0 10\napp;gone 10 0\napp;idle (app.py:9) 5 5\napp;work (app.py:3) 5 5\n")
    }

    func testDifferentSampleTypesAreRefused() {
        var wall = Profile(sampleTypes: [.wallTime])
        wall.add([Self.process, Self.work], count: 5)
        XCTAssertThrowsError(try ProfileDiff(before: Self.profile(total: 10, work: 5), after: wall)) { error in
            XCTAssertTrue("\(error)".contains("BEFORE counts samples (count), AFTER wall (nanoseconds)"), "\(error)")
        }
    }

    func testHostileNamesKeepOneStackPerLine() throws {
        var profile = Profile()
        profile.add([Self.process, .python(function: "a;b\nc<d>", file: "x.py", line: 1)], count: 2)
        let diff = try ProfileDiff(before: Profile(), after: profile)
        XCTAssertEqual(DiffFoldedWriter().rendered(diff), "app;a:b c<d> (x.py:1) 0 2\n")
        XCTAssertNotNil(try frames(diff)["a;b\nc<d> (x.py:1)"])
    }

    func testMatchesGoldenFile() throws {
        let diff = try ProfileDiff(before: FlameGraphWriterTests.hostileProfile(), after: Self.shiftedHostileProfile())
        assertMatchesGolden(DiffFlameGraphWriter.render(diff, options: .init(title: "diff <test>"),
                                                        script: "/* flamegraph.js */", style: "/* flamegraph.css */"),
                            named: "diff-basic.svg")
        assertMatchesGolden(DiffFoldedWriter().rendered(diff), named: "diff-basic.folded")
    }

    /// The hostile profile with load_config twice as busy and a new frame.
    static func shiftedHostileProfile() -> Profile {
        var profile = FlameGraphWriterTests.hostileProfile()
        let process = Frame.process(comm: "python3", pid: 5678)
        let thread = Frame.thread(name: "MainThread", tid: 5678)
        let module = Frame.python(function: "<module>", file: "app.py", line: 1)
        let eval = Frame.native(symbol: "_PyEval_EvalFrameDefault", module: "libpython3.11.so.1.0")
        var shifted = Profile()
        for stack in profile.stacks {
            var frames = profile.frames(of: stack)
            frames[0] = process
            if frames.count > 1, frames[1].kind == .thread { frames[1] = thread }
            shifted.add(frames, values: stack.values)
        }
        shifted.add([process, thread, module, eval, .python(function: "load_config", file: "cfg.py", line: 3)], count: 4)
        shifted.add([process, thread, .python(function: "fresh", file: "/srv/app/fresh.py", line: 7)], count: 1)
        profile = shifted
        return profile
    }
}
