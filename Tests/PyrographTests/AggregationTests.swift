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
        let stacks = aggregator.profile.sortedStacks()
        XCTAssertEqual(stacks.count, 1)
        XCTAssertEqual(stacks[0].frames.map(\.name), ["burn (42)", "worker (43)", "main"])
        XCTAssertEqual(stacks[0].count, 3)
        XCTAssertEqual(aggregator.profile.totalSamples, 3)
    }
}
