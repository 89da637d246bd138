import XCTest
@testable import Aggregation
@testable import Output

/// The display names are pyrograph's folded interface: these pin them.
final class FrameNamingTests: XCTestCase {
    func testEveryKindOfFrame() {
        let cases: [(Frame, String)] = [
            (.process(comm: "python3", pid: 12), "python3 (12)"),
            (.thread(name: "MainThread", tid: 13), "MainThread (13)"),
            (Frame(kind: .process, function: "worker"), "worker"),
            (.kernel(symbol: "do_syscall_64"), "do_syscall_64_[k]"),
            (.native(symbol: "memcpy", module: "libc.so.6"), "memcpy [libc.so.6]"),
            (.native(symbol: "main", module: nil), "main"),
            (.native(symbol: "main", module: ""), "main"),
            (.unsymbolized(module: "libfoo.so", offset: 0x1a2b), "libfoo.so+0x1a2b"),
            (.python(function: "Worker.run", file: "app.py", line: 42), "Worker.run (app.py:42)"),
            (.python(function: "lonely"), "lonely"),
            (.annotation(.pythonFrameUnreadable), "[python frame unreadable]"),
            (.annotation(.userStackUnavailable), "[user stack unavailable]"),
            (.annotation(.pythonStackTruncated(frames: 1024)), "[python stack truncated at 1024 frames]"),
            (.annotation(.pythonStackReadFault), "[python stack incomplete: read fault]"),
            (.annotation(.nativeUnwindStopped(.pcOutsideKnownMappings)), "[native unwind stopped: pc outside known mappings]"),
            (.annotation(.nativeUnwindStopped(.noCFIAndNoFramePointer)), "[native unwind stopped: no CFI and no frame pointer]"),
            (.annotation(.nativeUnwindStopped(.stackUnreadable)), "[native unwind stopped: stack unreadable]"),
            (.annotation(.nativeUnwindStopped(.deeperThan(frames: 256))), "[native unwind stopped: deeper than 256 frames]"),
            (.annotation(.nativeUnwindStopped(.unsupportedCFIRule)), "[native unwind stopped: unsupported CFI rule]"),
        ]
        for (frame, name) in cases {
            XCTAssertEqual(FrameNaming.displayName(frame), name)
        }
    }

    func testFormatsByNameAndExtension() {
        XCTAssertEqual(ProfileFormat.inferred(fromPath: "out/Flame.SVG"), .svg)
        XCTAssertEqual(ProfileFormat.inferred(fromPath: "a.folded"), .folded)
        XCTAssertEqual(ProfileFormat.inferred(fromPath: "a.collapsed"), .folded)
        XCTAssertEqual(ProfileFormat.inferred(fromPath: "a.txt"), .folded)
        XCTAssertNil(ProfileFormat.inferred(fromPath: "profile"))
        XCTAssertEqual(ProfileFormat.resolve(named: nil, path: "profile"), .svg)
        XCTAssertEqual(ProfileFormat.resolve(named: .folded, path: "x.svg"), .folded, "a name wins over the extension")
    }

    func testWritersStreamInChunks() throws {
        final class Counting: ByteStream {
            var writes = 0
            var bytes = 0
            func write(_ bytes: UnsafeRawBufferPointer) throws {
                writes += 1
                self.bytes += bytes.count
            }
        }
        var profile = Profile()
        for index in 0..<5000 {
            profile.add([.process(comm: "app", pid: 1), .python(function: "function_\(index)", file: "module.py", line: index)])
        }
        let stream = Counting()
        try FoldedWriter().write(profile, to: stream)
        XCTAssertGreaterThan(stream.writes, 1, "a large profile goes out in several chunks")
        XCTAssertEqual(stream.bytes, FoldedWriter.render(profile).utf8.count)
    }

    func testFlameGraphSubtitleSaysHowItWasRecorded() {
        var profile = Profile()
        profile.add([.process(comm: "app", pid: 1)], count: 7)
        profile.recording = RecordingInfo(frequency: 99, startNanoseconds: 0, startUnixNanoseconds: 0,
                                          durationNanoseconds: 2_460_000_000, processCount: 1)
        XCTAssertEqual(FlameGraphWriter.subtitle(for: profile), "7 samples, 99 Hz, 2.5 s, 1 processes")
        XCTAssertNil(FlameGraphWriter.subtitle(for: Profile()))
    }
}
