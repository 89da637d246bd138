import XCTest
@testable import Aggregation
@testable import Live

/// The ranking behind `pyrograph top`, without a terminal: own and total
/// shares per window, which frames count, the orders and the filter.
final class TopModelTests: XCTestCase {
    static let app = Frame.process(comm: "app", pid: 10)
    static let other = Frame.process(comm: "other", pid: 20)
    static let main = Frame.thread(name: "MainThread", tid: 10)
    static let worker = Frame.thread(name: "worker", tid: 11)

    static func py(_ name: String, _ line: Int = 1) -> Frame { .python(function: name, file: "/srv/app.py", line: line) }

    static let evalFrame = Frame.native(symbol: "_PyEval_EvalFrameDefault", module: "libpython3.12.so")
    static let write = Frame.kernel(symbol: "vfs_write")

    func testOwnIsTheInnermostPythonFrameAndTotalCountsEachFunctionOnce() throws {
        var model = TopModel()
        // 3 samples in run → hot, 1 in run → cold; the interpreter's C frames
        // and a kernel frame sit between and below them.
        model.add(process: Self.app, thread: Self.main,
                  frames: [Self.py("<module>"), Self.evalFrame, Self.py("run"), Self.evalFrame, Self.py("hot"), Self.write],
                  samples: 3, weight: 3)
        model.add(process: Self.app, thread: Self.main,
                  frames: [Self.py("<module>"), Self.py("run"), Self.py("cold"), Self.py("cold", 2), Self.py("cold", 3)],
                  samples: 1, weight: 1)
        model.closeInterval(seconds: 1)
        let rows = model.rows(order: TopOrder(key: .own))
        // run and <module> tie (own 0, total 100%): the name decides.
        XCTAssertEqual(rows.map(\.function.name), ["hot", "cold", "<module>", "run"])
        let cold = try XCTUnwrap(rows.first { $0.function.name == "cold" })
        // A recursion (three frames of cold) counts once toward its total.
        XCTAssertEqual(cold.interval, TopRow.Shares(own: 0.25, total: 0.25))
        XCTAssertEqual(rows[0].interval, TopRow.Shares(own: 0.75, total: 0.75))
        XCTAssertEqual(rows.first { $0.function.name == "run" }?.interval, TopRow.Shares(own: 0, total: 1))
        XCTAssertEqual(model.lastInterval.samplesPerSecond, 4)
        XCTAssertFalse(rows.contains { $0.function.kind != .python }, "C frames of a Python stack are not ranked")
    }

    func testStacksWithoutPythonAreRankedByNativeAndKernelFramesNotAnnotations() {
        var model = TopModel()
        model.add(process: Self.other, thread: Self.main,
                  frames: [.native(symbol: "main", module: "nginx"), Self.write, .annotation(.offCPU(.sleeping))],
                  samples: 1, weight: 1)
        model.closeInterval(seconds: 1)
        let rows = model.rows(order: TopOrder(key: .own))
        XCTAssertEqual(rows.map(\.function.name), ["vfs_write", "main"])
        XCTAssertEqual(rows[0].interval.own, 1)
    }

    func testLastIntervalAndSinceStartAreSeparateWindows() throws {
        var model = TopModel()
        model.add(process: Self.app, thread: Self.main, frames: [Self.py("early")], samples: 30, weight: 30)
        model.closeInterval(seconds: 1)
        model.add(process: Self.app, thread: Self.main, frames: [Self.py("late")], samples: 10, weight: 10)
        model.closeInterval(seconds: 1)
        let rows = model.rows(order: TopOrder(key: .own, window: .lastInterval))
        XCTAssertEqual(rows.map(\.function.name), ["late", "early"])
        XCTAssertEqual(rows[0].interval.own, 1)
        XCTAssertEqual(rows[0].sinceStart.own, 0.25)
        XCTAssertEqual(rows[1].interval.own, 0, "early did not run in the last interval")
        XCTAssertEqual(rows[1].sinceStart.own, 0.75)
        XCTAssertEqual(model.rows(order: TopOrder(key: .own, window: .sinceStart)).map(\.function.name), ["early", "late"])
        XCTAssertEqual(model.sinceStart.samples, 40)
        XCTAssertEqual(model.lastInterval.samplesPerSecond, 10)
    }

    func testWeightsNotRecordCountsMakeTheShares() {
        // With --clock wall an off-CPU interval is one record worth its length.
        var model = TopModel()
        model.add(process: Self.app, thread: Self.main, frames: [Self.py("wait"), .annotation(.offCPU(.sleeping))],
                  samples: 1, weight: 900)
        model.add(process: Self.app, thread: Self.main, frames: [Self.py("work")], samples: 10, weight: 100)
        model.closeInterval(seconds: 1)
        let rows = model.rows(order: TopOrder(key: .own))
        XCTAssertEqual(rows.map(\.function.name), ["wait", "work"])
        XCTAssertEqual(rows[0].interval.own, 0.9)
    }

    func testOrdersByTotalAndByName() {
        var model = TopModel()
        model.add(process: Self.app, thread: Self.main, frames: [Self.py("main"), Self.py("b_leaf")], samples: 2, weight: 2)
        model.add(process: Self.app, thread: Self.main, frames: [Self.py("main"), Self.py("a_leaf")], samples: 1, weight: 1)
        model.add(process: Self.app, thread: Self.main, frames: [Self.py("c_alone")], samples: 3, weight: 3)
        model.closeInterval(seconds: 1)
        XCTAssertEqual(model.rows(order: TopOrder(key: .own)).map(\.function.name), ["c_alone", "b_leaf", "a_leaf", "main"])
        XCTAssertEqual(model.rows(order: TopOrder(key: .total)).map(\.function.name), ["c_alone", "main", "b_leaf", "a_leaf"],
                       "a tie on total goes to the higher own share")
        XCTAssertEqual(model.rows(order: TopOrder(key: .name)).map(\.function.name), ["a_leaf", "b_leaf", "c_alone", "main"])
    }

    func testSameFunctionInTwoProcessesIsTwoRowsAndTheFilterKeepsOne() {
        var model = TopModel()
        model.add(process: Self.app, thread: Self.main, frames: [Self.py("serve")], samples: 1, weight: 1)
        model.add(process: Self.other, thread: Self.main, frames: [Self.py("serve")], samples: 3, weight: 3)
        model.closeInterval(seconds: 1)
        XCTAssertEqual(model.rows(order: TopOrder()).map(\.function.pid), [20, 10])
        XCTAssertEqual(model.rows(order: TopOrder(), pid: 10).map(\.function.pid), [10])
        XCTAssertEqual(model.rows(order: TopOrder(), pid: 10)[0].interval.own, 0.25,
                       "a filtered row keeps its share of all samples")
        XCTAssertEqual(model.processes.map(\.pid), [20, 10], "the busiest process first")
    }

    func testTheBusiestThreadIsShownWithTheCountOfOthers() {
        var model = TopModel()
        model.add(process: Self.app, thread: Self.main, frames: [Self.py("serve")], samples: 1, weight: 1)
        model.add(process: Self.app, thread: Self.worker, frames: [Self.py("serve")], samples: 5, weight: 5)
        model.closeInterval(seconds: 1)
        let row = model.rows(order: TopOrder())[0]
        XCTAssertEqual(row.thread, TopRow.ThreadName(name: "worker", tid: 11))
        XCTAssertEqual(row.otherThreads, 1)
    }

    func testProcessKeyStepsThroughProcessesThenBackToAll() {
        let processes = [TopModel.ProcessName(pid: 20, comm: "other"), TopModel.ProcessName(pid: 10, comm: "app")]
        var state = TopViewState()
        XCTAssertTrue(state.apply(.nextProcess, processes: processes))
        XCTAssertEqual(state.process?.pid, 20)
        XCTAssertTrue(state.apply(.nextProcess, processes: processes))
        XCTAssertEqual(state.process?.pid, 10)
        XCTAssertTrue(state.apply(.nextProcess, processes: processes))
        XCTAssertNil(state.process)
        _ = state.apply(.nextProcess, processes: processes)
        _ = state.apply(.allProcesses, processes: processes)
        XCTAssertNil(state.process)
        _ = state.apply(.sort(.name), processes: processes)
        _ = state.apply(.switchWindow, processes: processes)
        _ = state.apply(.pause, processes: processes)
        XCTAssertEqual(state.order, TopOrder(key: .name, window: .sinceStart))
        XCTAssertTrue(state.paused)
        XCTAssertFalse(state.apply(.quit, processes: processes))
        XCTAssertEqual(TopKey.parse(Array("otnwpa qx\u{1b}".utf8)),
                       [.sort(.own), .sort(.total), .sort(.name), .switchWindow, .nextProcess, .allProcesses, .pause, .quit])
    }
}
