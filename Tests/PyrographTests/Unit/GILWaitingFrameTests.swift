import Aggregation
@testable import Recording
@testable import Symbolization
import XCTest

/// Where `[waiting for the GIL]` goes, and when a thread counts as waiting.
final class GILWaitingFrameTests: XCTestCase {
    private func sample(_ gil: GILHolding?) -> RawSample {
        RawSample(pid: 1, tid: 1, processComm: "python", threadComm: "python", kernelStack: [], userStack: [], gil: gil)
    }

    private func address(_ symbol: String?) -> SymbolizedAddress {
        SymbolizedAddress(symbol: symbol, module: "libpython3.12.so.1.0", moduleOffset: 0x1000, isInFile: true)
    }

    func testTheFrameGoesRightUnderTheInnermostPythonFrame() {
        // Innermost first, as the symbolizer builds it.
        var user: [Frame] = [.native(symbol: "pthread_cond_timedwait", module: "libc.so.6"),
                             .native(symbol: "take_gil", module: "libpython3.12.so.1.0"),
                             .python(function: "spin_one", file: "gil.py", line: 3),
                             .python(function: "<module>", file: "gil.py", line: 9)]
        StackSymbolizer.markWaitingForGIL(&user)
        XCTAssertEqual(user.map { $0.annotation == .waitingForGIL }, [false, false, true, false, false])
        XCTAssertEqual(user[3].function, "spin_one")
    }

    func testWithoutPythonFramesTheFrameIsInnermost() {
        var user: [Frame] = [.native(symbol: "take_gil", module: "libpython3.12.so.1.0")]
        StackSymbolizer.markWaitingForGIL(&user)
        XCTAssertEqual(user.first?.annotation, .waitingForGIL)
    }

    func testWaitingIsTheKernelsWordOrTheGILSwitchWithoutTheGIL() {
        let inSwitch = [address("pthread_cond_timedwait"), address("take_gil"), address("_PyEval_EvalFrameDefault")]
        let elsewhere = [address("deflate"), address("zlib_compress")]
        XCTAssertTrue(StackSymbolizer.waitsForGIL(sample(.waiting), elsewhere))
        XCTAssertTrue(StackSymbolizer.waitsForGIL(sample(.released), inSwitch))
        XCTAssertTrue(StackSymbolizer.waitsForGIL(sample(.released), [address("drop_gil")]))
        XCTAssertFalse(StackSymbolizer.waitsForGIL(sample(.released), elsewhere), "zlib with the GIL released")
        XCTAssertFalse(StackSymbolizer.waitsForGIL(sample(.held), inSwitch), "just took it")
        XCTAssertFalse(StackSymbolizer.waitsForGIL(sample(nil), inSwitch), "without --gil")
    }

    /// 2.7 takes its GIL with PyThread_acquire_lock from the eval loop or
    /// PyEval_RestoreThread, and drops it in the eval loop's switch;
    /// threading.Lock takes a lock the same way from its own method, which
    /// is not the GIL.
    func testPython2WaitsInTheLockTheEvalLoopTakes() {
        let fromEvalLoop = [address("do_futex_wait"), address("sem_wait"), address("PyThread_acquire_lock"),
                            address("PyEval_EvalFrameEx")]
        let fromRestore = [address("sem_wait"), address("PyThread_acquire_lock"), address(nil), address("PyEval_RestoreThread")]
        let fromLock = [address("sem_wait"), address("PyThread_acquire_lock"), address("lock_PyThread_acquire_lock"),
                        address("PyEval_EvalFrameEx")]
        XCTAssertTrue(StackSymbolizer.waitsForGIL(sample(.released), fromEvalLoop))
        XCTAssertTrue(StackSymbolizer.waitsForGIL(sample(.released), fromRestore))
        XCTAssertFalse(StackSymbolizer.waitsForGIL(sample(.released), fromLock), "threading.Lock.acquire")
        XCTAssertFalse(StackSymbolizer.waitsForGIL(sample(.held), fromEvalLoop), "just took it")
        // Dropping it in the eval loop's switch, not before a blocking call.
        XCTAssertTrue(StackSymbolizer.waitsForGIL(sample(.released), [address("sem_post"), address("PyThread_release_lock"),
                                                                       address("PyEval_EvalFrameEx")]))
        XCTAssertFalse(StackSymbolizer.waitsForGIL(sample(.released), [address("sem_post"), address("PyThread_release_lock"),
                                                                        address("PyEval_SaveThread")]), "before a blocking call")
    }
}
