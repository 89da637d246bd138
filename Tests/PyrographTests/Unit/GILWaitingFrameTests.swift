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
}
