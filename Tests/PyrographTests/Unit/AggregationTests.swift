import XCTest
@testable import Aggregation

final class AggregationTests: XCTestCase {
    func testPerThreadFrameAndKindFilters() {
        var aggregator = StackAggregator(options: .init(perThread: true, includeKernel: false))
        let process = Frame.process(comm: "burn", pid: 42)
        let thread = Frame.thread(name: "worker", tid: 43)
        aggregator.add(.init(process: process, thread: thread,
                             frames: [.native(symbol: "main", module: nil), .kernel(symbol: "do_syscall_64")]))
        aggregator.add(.init(process: process, thread: thread,
                             frames: [.native(symbol: "main", module: nil)], count: 2))
        let profile = aggregator.profile
        XCTAssertEqual(profile.stacks.count, 1)
        XCTAssertEqual(profile.frames(of: profile.stacks[0]), [process, thread, .native(symbol: "main", module: nil)])
        XCTAssertEqual(profile.stacks[0].values, [3])
        XCTAssertEqual(profile.totalSamples, 3)
    }

    func testFramesAreInternedOnceAcrossStacks() {
        var profile = Profile()
        let process = Frame.process(comm: "app", pid: 1)
        let work = Frame.python(function: "work", file: "a.py", line: 3)
        profile.add([process, work], count: 1)
        profile.add([process, work, .kernel(symbol: "schedule")], count: 1)
        profile.add([process, work], count: 4)
        XCTAssertEqual(profile.frames.count, 3, "each distinct frame once")
        XCTAssertEqual(profile.stacks.count, 2)
        XCTAssertEqual(profile.stacks[0].values, [5])
        XCTAssertEqual(profile.stacks[1].frames.prefix(2), profile.stacks[0].frames[...])
    }

    func testFramesDifferingOnlyInLineAreDistinct() {
        var profile = Profile()
        let process = Frame.process(comm: "app", pid: 1)
        profile.add([process, .python(function: "f", file: "a.py", line: 1)])
        profile.add([process, .python(function: "f", file: "a.py", line: 2)])
        XCTAssertEqual(profile.stacks.count, 2)
    }

    func testValuesPerSampleTypeAndTotals() {
        var aggregator = StackAggregator(sampleTypes: [.samples, .cpuTime])
        let process = Frame.process(comm: "app", pid: 1)
        let thread = Frame.thread(name: "app", tid: 1)
        let first = aggregator.add(.init(process: process, thread: thread, frames: [], values: [1, 10_101_010]))
        aggregator.add(.init(process: process, thread: thread, frames: [], values: [1, 10_101_010]))
        aggregator.appendTimeline(.init(stack: first!, timestampNanoseconds: 20, cpu: 1, values: [1, 10_101_010]))
        aggregator.appendTimeline(.init(stack: first!, timestampNanoseconds: 10, cpu: 0, values: [1, 10_101_010]))
        let profile = aggregator.finished()
        XCTAssertEqual(profile.sampleTypes.map(\.unit), [.count, .nanoseconds])
        XCTAssertEqual(profile.totals, [2, 20_202_020])
        XCTAssertEqual(profile.totalSamples, 2)
        XCTAssertEqual(profile.timeline?.map(\.timestampNanoseconds), [10, 20], "the timeline is in time order")
    }

    func testEmptyStacksAndZeroValuesAddNothing() {
        var profile = Profile(sampleTypes: [.samples, .cpuTime])
        XCTAssertNil(profile.add([], values: [1, 1]))
        XCTAssertNil(profile.add([.process(comm: "a", pid: 1)], values: [0, 0]))
        XCTAssertTrue(profile.isEmpty)
    }

    func testMergeKeepsValuesOfBoth() {
        var one = Profile()
        one.add([.process(comm: "a", pid: 1)], count: 2)
        var two = Profile()
        two.add([.process(comm: "a", pid: 1)], count: 3)
        two.add([.process(comm: "b", pid: 2)], count: 1)
        one.merge(two)
        XCTAssertEqual(one.stacks.map(\.values), [[5], [1]])
        XCTAssertEqual(one.totalSamples, 6)
    }

    func testAnnotationsThatMarkMissingPython() {
        XCTAssertTrue(Annotation.pythonFrameUnreadable.marksMissingPython)
        XCTAssertTrue(Annotation.pythonStackTruncated(frames: 1024).marksMissingPython)
        XCTAssertTrue(Annotation.pythonStackReadFault.marksMissingPython)
        XCTAssertFalse(Annotation.userStackUnavailable.marksMissingPython)
        XCTAssertFalse(Annotation.nativeUnwindStopped(.stackUnreadable).marksMissingPython)
    }

    func testMergedProcessesShareOneRootPerCommand() {
        var aggregator = StackAggregator(options: .init(mergeProcesses: true))
        for pid: Int32 in [10, 11, 12] {
            aggregator.add(.init(process: .process(comm: "worker", pid: pid), thread: .thread(name: "worker", tid: pid),
                                 frames: [.python(function: "work", file: "w.py", line: 1)]))
        }
        aggregator.add(.init(process: .process(comm: "other", pid: 13), thread: .thread(name: "other", tid: 13), frames: []))
        let profile = aggregator.profile
        XCTAssertEqual(profile.stacks.count, 2)
        XCTAssertEqual(profile.frames(of: profile.stacks[0]).first, Frame(kind: .process, function: "worker"))
        XCTAssertEqual(profile.stacks[0].values, [3])
    }
}
