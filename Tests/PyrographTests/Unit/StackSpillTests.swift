import Aggregation
import Foundation
import XCTest
@testable import Recording

/// Past `--max-stack-memory` the profile's sink sets its stacks aside on
/// disk and merges them back at the stop: the profile must be the one it
/// would have built in memory, the archive must give back every frame
/// exactly, and a spill that cannot be written must lose nothing.
final class StackSpillTests: XCTestCase {
    private static let annotations: [Annotation] = [
        .nativeUnwindStopped(.pcOutsideKnownMappings), .nativeUnwindStopped(.noCFIAndNoFramePointer),
        .nativeUnwindStopped(.stackUnreadable), .nativeUnwindStopped(.deeperThan(frames: 512)),
        .nativeUnwindStopped(.unsupportedCFIRule), .nativeUnwindStopped(.noUnwindTable),
        .offCPU(.sleeping), .offCPU(.blockedOnIO), .offCPU(.preempted), .waitingForGIL, .userStackUnavailable,
        .pythonFrameUnreadable, .pythonStackTruncated(frames: 1024), .pythonStackReadFault,
        .pythonChainBroken(.cycle), .pythonChainBroken(.notACodeObject), .pythonChainBroken(.misalignedFrame),
        .pythonStacksUnavailable("python 3.16.0: no stack layout"), .stackTableFull,
    ]

    private static var everyKindOfFrame: [Frame] {
        [
            .process(comm: "gunicorn", pid: 4_194_304), Frame(kind: .process, function: "merged"),
            .thread(name: "worker ✓", tid: -7), .kernel(symbol: "do_syscall_64"),
            .native(symbol: "PyObject_Call", module: "libpython3.12.so.1.0", buildID: "0a1b2c"),
            .unsymbolized(module: "app.so", offset: .max), .native(symbol: "", module: nil),
            .python(function: "Handler.get", file: "/srv/app/handlers.py", line: 42),
            .python(function: "<lambda>", file: nil, line: nil), .python(function: "f", file: "x.py", line: Int.min),
            .python(function: "g", file: "", line: Int.max), .python(function: "h", file: "y.py", line: 0),
        ] + annotations.map { Frame.annotation($0) }
    }

    func testTheArchiveGivesBackEveryKindOfFrameExactly() throws {
        var profile = Profile(sampleTypes: ProfileSink.sampleTypes)
        let frames = Self.everyKindOfFrame
        for (index, frame) in frames.enumerated() {
            profile.add([frames[0], frame], values: [UInt64(index + 1), UInt64.max / 64])
            profile.add(Array(frames.prefix(index + 1)), values: [0, UInt64(index)])
        }
        let bytes = ProfileArchive.encoded(profile)
        let back = try ProfileArchive.profile(from: bytes, sampleTypes: ProfileSink.sampleTypes)
        XCTAssertEqual(back, profile)
        XCTAssertEqual(back.frames, profile.frames, "in the same order")
        XCTAssertEqual(back.stacks, profile.stacks, "in the same order")
        XCTAssertEqual(Set(back.frames.compactMap(\.annotation)).count, Self.annotations.count, "every annotation")
    }

    /// A cut or damaged archive throws (or reads as some profile); it never
    /// traps or reserves without bound.
    func testADamagedArchiveThrowsAndNeverTraps() throws {
        var profile = Profile(sampleTypes: ProfileSink.sampleTypes)
        let frames = Self.everyKindOfFrame
        for index in frames.indices { profile.add(Array(frames[...index]), values: [1, 2]) }
        let bytes = ProfileArchive.encoded(profile)
        for length in 0..<bytes.count {
            XCTAssertThrowsError(try ProfileArchive.profile(from: Array(bytes[..<length]), sampleTypes: ProfileSink.sampleTypes),
                                 "cut at \(length)")
        }
        XCTAssertThrowsError(try ProfileArchive.profile(from: bytes + [0], sampleTypes: ProfileSink.sampleTypes))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3_000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                damaged[Int.random(in: 0..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? ProfileArchive.profile(from: damaged, sampleTypes: ProfileSink.sampleTypes)
        }
    }

    /// Three generations of stacks, as the session makes them past its
    /// budget (a new frame table each), fed to a sink that sets them aside
    /// and to one that keeps them: the same profile, timeline and all, as
    /// the user's view shows it (file names shortened by what all the
    /// generations hold, interpreter glue removed).
    func testASinkThatSetsItsStacksAsideGivesTheSameProfile() throws {
        let directory = try TestSupport.temporaryDirectory()
        let spill = StackSpillFile(directories: [directory.path])
        let spilling = ProfileSink(options: .init(perThread: true), keepsTimeline: true, spill: spill)
        let keeping = ProfileSink(options: .init(perThread: true), keepsTimeline: true)
        var time: UInt64 = 0
        // Only the first and the last generation show a script's directory:
        // each part's names are shortened by what the others show.
        let outermost: [Frame] = [.python(function: "<module>", file: "/srv/app/main.py", line: 1),
                                  .python(function: "main", file: "/srv/app/main.py", line: 1),
                                  .python(function: "<module>", file: "/opt/tool/run.py", line: 1)]
        for generation in 0..<3 {
            let table = FrameTable()
            let stacks = (0..<40).map { index in
                SymbolizedStack(id: generation * 40 + index, process: .process(comm: "app", pid: Int32(1 + index % 3)),
                                thread: .thread(name: "t", tid: Int32(10 + index % 4)),
                                frames: [.native(symbol: "_PyEval_EvalFrameDefault", module: "libpython3.12.so.1.0"),
                                         outermost[generation],
                                         .native(symbol: "_PyEval_EvalFrameDefault", module: "libpython3.12.so.1.0"),
                                         .python(function: "work\(index % 7)", file: "/srv/app/lib/g\(generation).py",
                                                 line: index % 5),
                                         .python(function: "tool", file: "/opt/tool/t\(generation).py", line: 2),
                                         .kernel(symbol: "schedule")],
                                table: table)
            }
            for round in 0..<200 {
                time += 1_000_000
                let sample = SymbolizedSample(stack: stacks[(round * 7 + generation) % stacks.count], timestampNanoseconds: time,
                                              cpu: UInt32(round % 2), origin: .onCPU, weightNanoseconds: 10_000_000)
                spilling.consume(sample)
                keeping.consume(sample)
            }
            if generation < 2 { spilling.stacksRetired() }
        }
        XCTAssertEqual(spilling.spilledChunks, 2)
        XCTAssertGreaterThan(spill.bytesWritten, 0)
        let view = ProfileView()
        let expected = keeping.profile(recording: nil, naming: view)
        let got = spilling.profile(recording: nil, naming: view)
        XCTAssertEqual(got.totalSamples, 600)
        XCTAssertEqual(Set(got.frames.compactMap(\.file)),
                       ["main.py", "run.py", "lib/g0.py", "lib/g1.py", "lib/g2.py", "t0.py", "t1.py", "t2.py"])
        XCTAssertEqual(got.timeline?.count, 600)
        XCTAssertEqual(got, expected)
        XCTAssertNil(spilling.spillFailure)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [], "the spill file has no name")
    }

    /// Coarsened across set-asides, each thread's samples still add up on
    /// the timeline, and entries of a thread from before and after do not
    /// merge with another thread's that had the same id in another table.
    func testACoarsenedTimelineAddsUpAcrossSetAsides() throws {
        let spilling = ProfileSink(options: .init(perThread: true), keepsTimeline: true, timelineCeiling: 64,
                                   spill: StackSpillFile(directories: [try TestSupport.temporaryDirectory().path]))
        var time: UInt64 = 0
        var perThread: [Int32: UInt64] = [:]
        for generation in 0..<4 {
            let table = FrameTable()
            // The same table ids, other threads in each generation.
            let stacks = (0..<4).map { index in
                SymbolizedStack(id: generation * 4 + index, process: .process(comm: "app", pid: 1),
                                thread: .thread(name: "t", tid: Int32(100 * generation + index)),
                                frames: [.python(function: "f\(index)", file: "a.py", line: 1)], table: table)
            }
            for round in 0..<300 {
                time += 1_000
                let stack = stacks[round % 4]
                spilling.consume(SymbolizedSample(stack: stack, timestampNanoseconds: time, cpu: 0, origin: .onCPU,
                                                  weightNanoseconds: 1_000))
                perThread[stack.thread.id!, default: 0] += 1
            }
            spilling.stacksRetired()
        }
        let profile = spilling.profile(recording: nil)
        XCTAssertEqual(profile.totalSamples, 1_200)
        XCTAssertLessThan(profile.timeline?.count ?? 0, 64)
        var timelinePerThread: [Int32: UInt64] = [:]
        for sample in profile.timeline ?? [] {
            let thread = profile.frames(of: profile.stacks[sample.stack]).first { $0.kind == .thread }!
            timelinePerThread[thread.id!, default: 0] += sample.values[0]
        }
        XCTAssertEqual(timelinePerThread, perThread)
    }

    /// Wall time: a stack's samples are counted from its nanoseconds once,
    /// not once per part: 0.6 of a period in each of three parts is two
    /// samples (1.8 periods), as in a sink that kept everything.
    func testAWallClockStackIsCountedOnceAcrossSetAsides() throws {
        let period: UInt64 = 10_000_000
        let spilling = ProfileSink(wallPeriodNanoseconds: period,
                                   spill: StackSpillFile(directories: [try TestSupport.temporaryDirectory().path]))
        let keeping = ProfileSink(wallPeriodNanoseconds: period)
        for generation in 0..<3 {
            let stack = SymbolizedStack(id: generation, process: .process(comm: "app", pid: 1), thread: .thread(name: "t", tid: 1),
                                        frames: [.python(function: "wait", file: "a.py", line: 1)], table: FrameTable())
            let sample = SymbolizedSample(stack: stack, timestampNanoseconds: UInt64(generation), cpu: 0, origin: .offCPU,
                                          weightNanoseconds: period * 6 / 10)
            spilling.consume(sample)
            keeping.consume(sample)
            spilling.stacksRetired()
        }
        XCTAssertEqual(spilling.spilledChunks, 3)
        let got = spilling.profile(recording: nil), expected = keeping.profile(recording: nil)
        XCTAssertEqual(got.totals, [2, period * 18 / 10])
        XCTAssertEqual(got, expected)
    }

    /// A set-aside chunk that cannot be read back at the stop (here the
    /// file is cut short under it) loses its own stacks and says so; the
    /// chunk before it and the sink's own stacks are in the profile.
    func testAChunkThatCannotBeReadBackLosesOnlyItsStacks() throws {
        let directory = try TestSupport.temporaryDirectory()
        let spill = StackSpillFile(directories: [directory.path])
        let sink = ProfileSink(keepsTimeline: true, spill: spill)
        var firstChunkBytes = 0
        for generation in 0..<3 {
            let table = FrameTable()
            for index in 0..<50 {
                let stack = SymbolizedStack(id: generation * 50 + index, process: .process(comm: "app", pid: 1),
                                            thread: .thread(name: "t", tid: 1),
                                            frames: [.python(function: "g\(generation)_\(index)", file: "a.py", line: 1)],
                                            table: table)
                sink.consume(SymbolizedSample(stack: stack, timestampNanoseconds: UInt64(generation * 50 + index), cpu: 0,
                                              origin: .onCPU, weightNanoseconds: 1_000))
            }
            if generation < 2 { sink.stacksRetired() }
            if generation == 0 { firstChunkBytes = spill.bytesWritten }
        }
        XCTAssertEqual(sink.spilledChunks, 2)
        // The unnamed file is ours, open in this process: cut the second chunk short.
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { name -> Int32? in
            let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name)
            return target?.hasPrefix(directory.path + "/") == true ? Int32(name) : nil
        }
        XCTAssertEqual(descriptors.count, 1)
        XCTAssertEqual(ftruncate(try XCTUnwrap(descriptors.first), off_t(firstChunkBytes + 10)), 0)
        let profile = sink.profile(recording: nil)
        XCTAssertEqual(sink.spillFailure, .cannotRead(errno: EIO))
        XCTAssertEqual(profile.totalSamples, 100)
        XCTAssertEqual(Set(profile.frames.map(\.function).filter { $0.hasPrefix("g") }),
                       Set((0..<50).flatMap { ["g0_\($0)", "g2_\($0)"] }))
        XCTAssertEqual(profile.timeline?.count, 100, "the lost chunk's samples are off the timeline")
    }

    /// No directory to write in: the stacks stay in memory, the profile is
    /// whole, and the sink says why.
    func testAStackSetAsideThatCannotBeWrittenStaysInMemory() {
        let sink = ProfileSink(spill: StackSpillFile(directories: ["/nonexistent/pyrograph-test"]))
        let table = FrameTable()
        let stack = SymbolizedStack(id: 0, process: .process(comm: "app", pid: 1), thread: .thread(name: "app", tid: 1),
                                    frames: [.python(function: "f", file: "a.py", line: 1)], table: table)
        sink.consume(SymbolizedSample(stack: stack, timestampNanoseconds: 1, cpu: 0, origin: .onCPU, weightNanoseconds: 5))
        sink.stacksRetired()
        sink.consume(SymbolizedSample(stack: stack, timestampNanoseconds: 2, cpu: 0, origin: .onCPU, weightNanoseconds: 5))
        XCTAssertEqual(sink.spillFailure, .cannotCreate(directory: "/nonexistent/pyrograph-test", errno: ENOENT))
        XCTAssertEqual(sink.spilledChunks, 0)
        let profile = sink.profile(recording: nil)
        XCTAssertEqual(profile.totalSamples, 2)
        XCTAssertEqual(profile.stacks.count, 1)
    }
}
