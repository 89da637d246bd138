import Foundation
import SwiftProtobuf
import XCTest
@testable import Aggregation
@testable import Output

final class PprofWriterTests: XCTestCase {
    /// The message, in protobuf's text format: every field a reviewer can read.
    func testMatchesGoldenFile() throws {
        let message = try Perftools_Profiles_Profile(serializedBytes: PprofWriter.encoded(FormatFixture.aggregated))
        assertMatchesGolden(message.textFormatString(), named: "pprof-basic.txtpb")
    }

    func testFileNamesPickTheFormat() {
        XCTAssertEqual(ProfileFormat.inferred(fromPath: "/tmp/run.pb.gz"), .pprof)
        XCTAssertEqual(ProfileFormat.inferred(fromPath: "run.PPROF"), .pprof)
        XCTAssertEqual(ProfileFormat(rawValue: "pprof"), .pprof)
    }

    func testIsGzippedProtobuf() throws {
        let bytes = MemoryStream()
        try PprofWriter().write(FormatFixture.aggregated, to: bytes)
        XCTAssertTrue(Gzip.isCompressed(bytes.bytes))
        let message = try Perftools_Profiles_Profile(serializedBytes: try Gzip.decompress(bytes.bytes))
        XCTAssertEqual(message.stringTable.first, "")
        XCTAssertEqual(message.sampleType.map { message.stringTable[Int($0.type)] + "/" + message.stringTable[Int($0.unit)] },
                       ["samples/count", "cpu/nanoseconds"])
        XCTAssertEqual(message.period, 10_000_000)
        XCTAssertEqual(message.durationNanos, 100_000_000)
    }

    /// Everything the model holds comes back, but the timeline and the
    /// monotonic start, which pprof has no place for.
    func testReaderGivesBackTheModel() throws {
        let profile = Self.everyKindOfFrame
        let read = try ProfileReader.read(bytes: PprofWriter().rendered(bytes: profile), path: "x.pb.gz")
        XCTAssertEqual(read.sampleTypes, profile.sampleTypes)
        XCTAssertEqual(read.defaultSampleType, profile.defaultSampleType)
        XCTAssertEqual(read.frames, profile.frames)
        XCTAssertEqual(read.stacks, profile.stacks)
        XCTAssertEqual(read.totals, profile.totals)
        var recording = try XCTUnwrap(profile.recording)
        recording.startNanoseconds = 0
        XCTAssertEqual(read.recording, recording)
        XCTAssertNil(read.timeline)
    }

    /// The wall-clock profile's period is wall time, and its default type too.
    func testWallClockProfileKeepsItsTypes() throws {
        var profile = Profile(sampleTypes: [.samples, .wallTime], defaultSampleType: 1)
        profile.add([FormatFixture.app, FormatFixture.run], values: [1, 5_000_000])
        profile.recording = RecordingInfo(frequency: 200, startNanoseconds: 0, startUnixNanoseconds: 7,
                                          durationNanoseconds: 1, processCount: 1)
        let message = try Perftools_Profiles_Profile(serializedBytes: PprofWriter.encoded(profile))
        XCTAssertEqual(message.stringTable[Int(message.periodType.type)], "wall")
        XCTAssertEqual(message.stringTable[Int(message.defaultSampleType)], "wall")
        let read = try ProfileReader.read(bytes: PprofWriter().rendered(bytes: profile), path: "x")
        XCTAssertEqual(read.defaultSampleType, 1)
        XCTAssertEqual(read.recording?.frequency, 200)
        XCTAssertEqual(read.stacks, profile.stacks)
    }

    /// Names pprof keeps as they are, where folded text must replace `;`
    /// and newlines: they come back byte for byte.
    func testHostileNamesSurvive() throws {
        let names = ["a;b", "line\nbreak", "<script>&amp;", "bad \u{FFFD}\u{FFFD} utf-8", "\u{1b}[31mred", "\u{202e}evil"]
        var profile = Profile()
        for name in names {
            profile.add([.process(comm: name, pid: 1), .thread(name: name, tid: 2),
                         .native(symbol: name, module: name), .python(function: name, file: name, line: 3), .kernel(symbol: name),
                         .annotation(.pythonStacksUnavailable(name))], count: 1)
        }
        let read = try ProfileReader.read(bytes: PprofWriter().rendered(bytes: profile), path: "x")
        XCTAssertEqual(read.frames, profile.frames)
        XCTAssertEqual(read.stacks, profile.stacks)
        // Invalid UTF-8 from a process is already U+FFFD in the model; the
        // bytes a process gave are decoded that way by the symbolizer.
        XCTAssertEqual(String(decoding: [0x62, 0xff, 0xfe], as: UTF8.self), "b\u{FFFD}\u{FFFD}")
    }

    /// pyrograph encodes the wire format itself (`ProtobufBytes`):
    /// SwiftProtobuf reads it and serializes what it read to the very same
    /// bytes, so every field is where and as protobuf puts it. Large values
    /// and ids take varints of several bytes; a negative line takes ten.
    func testEncodingIsWhatSwiftProtobufWrites() throws {
        var large = Self.everyKindOfFrame
        for index in 0..<300 {
            large.add([FormatFixture.app, .thread(name: "t\(index % 7)", tid: Int32(index % 7)),
                       .python(function: "f\(index)", file: "m\(index % 13).py", line: index * 1000 - 5),
                       .native(symbol: "n\(index % 150)", module: "lib\(index % 3).so", buildID: index % 2 == 0 ? "ab" : nil)],
                      values: [UInt64(index) << 20, UInt64(index) << 40])
        }
        large.add([FormatFixture.app, .python(function: "huge")], values: [UInt64(1) << 63 + 5, 1])
        for profile in [FormatFixture.aggregated, Self.everyKindOfFrame, large, Profile()] {
            let bytes = PprofWriter.encoded(profile)
            let again: [UInt8] = try Perftools_Profiles_Profile(serializedBytes: bytes).serializedBytes()
            let firstDifference = (0..<min(again.count, bytes.count)).first { again[$0] != bytes[$0] } ?? min(again.count, bytes.count)
            XCTAssertTrue(again == bytes, "\(profile.stacks.count) stacks: SwiftProtobuf writes \(again.count) bytes, "
                          + "pyrograph \(bytes.count); they differ from byte \(firstDifference)")
        }
        let message = try Perftools_Profiles_Profile(serializedBytes: PprofWriter.encoded(large))
        XCTAssertEqual(message.sample.last?.value, [Int64.max, 1])
        XCTAssertGreaterThan(message.location.count, 300)
    }

    func testEveryAnnotationHasACodeThatReadsBack() {
        let annotations: [Annotation] = [
            .nativeUnwindStopped(.pcOutsideKnownMappings), .nativeUnwindStopped(.noCFIAndNoFramePointer), .nativeUnwindStopped(.noUnwindTable),
            .nativeUnwindStopped(.stackUnreadable), .nativeUnwindStopped(.deeperThan(frames: 127)),
            .nativeUnwindStopped(.unsupportedCFIRule), .offCPU(.sleeping), .offCPU(.blockedOnIO), .offCPU(.preempted),
            .userStackUnavailable, .pythonFrameUnreadable, .pythonStackTruncated(frames: 1024), .pythonStackReadFault,
            .pythonStacksUnavailable("python 3.16.0: no stack layout / yet"), .stackTableFull, .waitingForGIL, .pythonChainBroken(.cycle), .pythonChainBroken(.notACodeObject),
            .pythonChainBroken(.misalignedFrame),
        ]
        let codes = annotations.map(PprofFrameCode.code(for:))
        XCTAssertEqual(Set(codes).count, codes.count, "two annotations share a code")
        for (annotation, code) in zip(annotations, codes) {
            XCTAssertEqual(PprofFrameCode.annotation(code: code), annotation, code)
        }
        XCTAssertNil(PprofFrameCode.annotation(code: "python-stack-truncated/many"))
        XCTAssertNil(PprofFrameCode.frame(code: "no-such-code", name: "x"))
    }

    /// Go's own reader takes the file: sample types and units, the period,
    /// labels, and per function the values the model holds.
    func testGoToolPprofReadsIt() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("fixture.pb.gz").path
        try Data(PprofWriter().rendered(bytes: FormatFixture.aggregated)).write(to: URL(fileURLWithPath: path))

        let raw = try GoPprof.run(["-raw", path])
        XCTAssertTrue(raw.contains("PeriodType: cpu nanoseconds"), raw)
        XCTAssertTrue(raw.contains("Period: 10000000"), raw)
        XCTAssertTrue(raw.contains("samples/count[dflt] cpu/nanoseconds"), raw)
        XCTAssertTrue(raw.contains("pid:[42] tid:[43]"), raw)
        XCTAssertTrue(raw.contains("process:[app] thread:[worker]"), raw)
        XCTAssertTrue(raw.contains("[kernel.kallsyms]"), raw)

        // The fixture's 12 samples: parse is the leaf of 4 (line 20) and 1
        // (line 22), and calls ksys_read once; run is the leaf of 2.
        let top = try GoPprof.top(path, sampleIndex: "samples")
        XCTAssertEqual(top["parse"], GoPprof.Row(flat: 5, flatShare: 41.67, cumulative: 6, cumulativeShare: 50))
        XCTAssertEqual(top["run"], GoPprof.Row(flat: 2, flatShare: 16.67, cumulative: 8, cumulativeShare: 66.67))
        XCTAssertEqual(top["ksys_read"]?.flat, 1)
        XCTAssertEqual(top["main"]?.cumulative, 11)
        XCTAssertEqual(top["[python stack truncated at 1024 frames]"]?.flat, 1)
        let time = try GoPprof.top(path, sampleIndex: "cpu")
        XCTAssertEqual(try XCTUnwrap(time["parse"]?.flat), 0.05, accuracy: 1e-9)

        let tags = try GoPprof.run(["-tags", path])
        for expected in ["pid: Total 12", "11.0 (91.67%): 42", "process: Total 12", "1.0 ( 8.33%): tool",
                         "thread: Total 12", "3.0 (25.00%): worker", "tid: Total 12", "3.0 (25.00%): 43"] {
            XCTAssertTrue(tags.contains(expected), "\(expected) missing from -tags:\n\(tags)")
        }
        let traces = try GoPprof.run(["-traces", path])
        XCTAssertTrue(traces.contains("evil;\"name\"\n<script>") || traces.contains("evil;\"name\""), traces)
    }

    /// A profile with a frame of each kind and shape: build IDs, offsets,
    /// process and thread frames below the root, every annotation family.
    static var everyKindOfFrame: Profile {
        var profile = FormatFixture.aggregated
        let app = FormatFixture.app, thread = FormatFixture.mainThread
        profile.add([app, thread, .native(symbol: "memcpy", module: "libc.so.6", buildID: "deadbeef00"),
                     .unsymbolized(module: "libc.so.6", offset: 0x1234, buildID: "deadbeef00"),
                     .unsymbolized(module: "[anon]", offset: 0x10), .kernel(symbol: "do_syscall_64"),
                     .annotation(.offCPU(.blockedOnIO))], values: [2, 2 * FormatFixture.period])
        profile.add([app, .python(function: "<module>"), .python(function: "f", file: "a.py"),
                     Frame(kind: .native, function: "sym", module: "x.so", offset: 16),
                     .process(comm: "inner", pid: 9), .thread(name: "t", tid: 10),
                     Frame(kind: .annotation, function: "read from folded")], values: [1, FormatFixture.period])
        profile.add([Frame(kind: .process, function: "merged"), .native(symbol: "main", module: nil),
                     .annotation(.nativeUnwindStopped(.deeperThan(frames: 127)))], values: [3, 0])
        profile.recording?.processCount = 3
        return profile
    }
}

extension PprofWriter {
    func rendered(bytes profile: Profile) throws -> [UInt8] {
        let memory = MemoryStream()
        try write(profile, to: memory)
        return memory.bytes
    }
}
