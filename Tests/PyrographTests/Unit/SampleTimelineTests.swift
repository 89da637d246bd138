import Aggregation
import XCTest
@testable import Recording

/// The timeline of chrome and speedscope stays under its ceiling however
/// long the recording, and coarser does not mean wrong: each thread's
/// samples and time add up, in time order, and a long wait keeps its stack.
final class SampleTimelineTests: XCTestCase {
    private let period: UInt64 = 10_000_000

    func testStaysUnderItsCeilingWithEachThreadsTimeExact() {
        var timeline = SampleTimeline(ceiling: 1_000)
        var samples: [Int32: UInt64] = [:]
        var time: [Int32: UInt64] = [:]
        for index in 0..<100_000 {
            let thread = Int32(index % 3)
            // Thread 2 runs a tenth as often and weighs more per sample.
            if thread == 2 && index % 30 != 2 { continue }
            let weight = thread == 2 ? 3 * period : period
            timeline.append(slot: Int32(index % 7), thread: thread, cpu: 0, timestampNanoseconds: UInt64(index) * period,
                            weightNanoseconds: weight)
            samples[thread, default: 0] += 1
            time[thread, default: 0] += weight
            XCTAssertLessThan(timeline.entries.count, 1_000)
        }
        XCTAssertGreaterThan(timeline.entries.count, 250, "coarsened no more than it had to")
        XCTAssertGreaterThan(timeline.samplesPerEntry, 64)
        for thread in Int32(0)...2 {
            let entries = timeline.entries.filter { $0.thread == thread }
            XCTAssertEqual(entries.reduce(0) { $0 + UInt64($1.samples) }, samples[thread], "thread \(thread)'s samples")
            XCTAssertEqual(entries.reduce(0) { $0 + $1.weightNanoseconds }, time[thread], "thread \(thread)'s time")
            XCTAssertEqual(entries.map(\.timestampNanoseconds), entries.map(\.timestampNanoseconds).sorted(), "in time order")
            XCTAssertLessThanOrEqual(entries.map(\.samples).max() ?? 0, timeline.samplesPerEntry)
        }
    }

    func testBelowItsCeilingEverySampleIsItsOwnEntry() {
        var timeline = SampleTimeline(ceiling: 1_000)
        for index in 0..<999 {
            timeline.append(slot: Int32(index), thread: 1, cpu: 1, timestampNanoseconds: UInt64(index), weightNanoseconds: period)
        }
        XCTAssertEqual(timeline.samplesPerEntry, 1)
        XCTAssertEqual(timeline.entries.map(\.slot), (0..<999).map(Int32.init))
    }

    /// Merged with the short on-CPU samples beside it, an interval off CPU
    /// that outweighs them keeps its stack; equal parts keep the earlier.
    func testTheHeavierPartGivesAMergedEntryItsStack() {
        var timeline = SampleTimeline(ceiling: 4)
        let running: Int32 = 1, waiting: Int32 = 2
        timeline.append(slot: running, thread: 0, cpu: 0, timestampNanoseconds: 0, weightNanoseconds: period)
        timeline.append(slot: waiting, thread: 0, cpu: 0, timestampNanoseconds: period, weightNanoseconds: 100 * period)
        timeline.append(slot: running, thread: 0, cpu: 0, timestampNanoseconds: 101 * period, weightNanoseconds: period)
        timeline.append(slot: waiting + 1, thread: 0, cpu: 0, timestampNanoseconds: 102 * period, weightNanoseconds: period)
        XCTAssertEqual(timeline.samplesPerEntry, 2)
        XCTAssertEqual(timeline.entries.map(\.slot), [waiting, running])
        XCTAssertEqual(timeline.entries.map(\.timestampNanoseconds), [0, 101 * period])
        XCTAssertEqual(timeline.entries.map(\.weightNanoseconds), [101 * period, 2 * period])
    }

    /// Thousands of threads of one sample each cannot be merged: the
    /// timeline keeps one entry per thread and does not try again on every
    /// append.
    func testOneSampleThreadsAreKeptWithoutRetryingEveryAppend() {
        var timeline = SampleTimeline(ceiling: 100)
        for thread in Int32(0)..<10_000 {
            timeline.append(slot: 0, thread: thread, cpu: 0, timestampNanoseconds: UInt64(thread), weightNanoseconds: period)
        }
        XCTAssertEqual(timeline.entries.count, 10_000)
        XCTAssertEqual(timeline.samplesPerEntry, 1, "nothing was merged")
        XCTAssertLessThan(timeline.coarsenings, 10, "tried again only when the entries doubled")
    }

    /// Through the sink: past the ceiling the profile's timeline still adds
    /// up to the aggregated totals, sample for sample.
    func testTheSinksCoarsenedTimelineAddsUpToItsProfile() {
        let table = FrameTable()
        let stacks = (0..<50).map { id in
            SymbolizedStack(id: id, process: .process(comm: "app", pid: 1), thread: .thread(name: "app", tid: Int32(id % 5)),
                            frames: [.python(function: "f\(id)", file: "app.py", line: 1)], table: table)
        }
        let sink = ProfileSink(keepsTimeline: true, timelineCeiling: 500)
        for index in 0..<20_000 {
            sink.consume(SymbolizedSample(stack: stacks[index * 7 % 50], timestampNanoseconds: UInt64(index) * period, cpu: 0,
                                          origin: .onCPU, weightNanoseconds: period))
        }
        XCTAssertGreaterThan(sink.timelineSamplesPerEntry, 1)
        let profile = sink.profile(recording: nil)
        let timeline = profile.timeline ?? []
        XCTAssertLessThan(timeline.count, 500)
        for type in profile.sampleTypes.indices {
            XCTAssertEqual(timeline.reduce(0) { $0 + $1.values[type] }, profile.totals[type], "\(profile.sampleTypes[type])")
        }
    }

    /// `--interval`: each window has its own timeline and ceiling; the
    /// windows coarsened are counted for the summary.
    func testWindowsCountTheTimelinesTheyCoarsened() {
        let table = FrameTable()
        let stack = SymbolizedStack(id: 0, process: .process(comm: "app", pid: 1), thread: .thread(name: "app", tid: 1),
                                    frames: [.python(function: "f", file: "app.py", line: 1)], table: table)
        var timelines: [Int] = []
        let sink = WindowedProfileSink(lengthSeconds: 1, recording: .init(frequency: 99, startNanoseconds: 0, startUnixNanoseconds: 0,
                                                                          durationNanoseconds: 0, processCount: 0),
                                       makeSink: { ProfileSink(keepsTimeline: true, timelineCeiling: 10) },
                                       onWindow: { timelines.append($0.profile.timeline?.count ?? 0) })
        sink.recordingStarted(monotonicNanoseconds: 0, unixNanoseconds: 0)
        // 40 samples in the first window, 5 in the second.
        for index in 0..<40 + 5 {
            let time = index < 40 ? UInt64(index) * period / 2 : 1_000_000_000 + UInt64(index) * period
            sink.consume(SymbolizedSample(stack: stack, timestampNanoseconds: time, cpu: 0, origin: .onCPU, weightNanoseconds: period))
        }
        sink.finish(elapsedSeconds: 2)
        XCTAssertEqual(timelines.count, 2)
        XCTAssertLessThan(timelines[0], 10)
        XCTAssertEqual(timelines[1], 5)
        XCTAssertEqual(sink.coarsenedTimelines, 1)
        XCTAssertEqual(sink.mostTimelineSamplesPerEntry, 8)
    }
}
