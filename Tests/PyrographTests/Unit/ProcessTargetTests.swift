import Foundation
import XCTest
@testable import ProcessInspection

/// `-p` names a process that can never be sampled: say so before sampling
/// instead of "did not run on a CPU" after it.
final class ProcessTargetTests: XCTestCase {
    func testStatLineFields() {
        let line = "42 (a) b (c)) Z 7 42 42 0 -1 4202560 0 0 0 0 0 0"
        let status = ProcessStatus(pid: 42, statLine: line)
        XCTAssertEqual(status?.state, "Z")
        XCTAssertEqual(status?.parent, 7)
        XCTAssertEqual(status?.isZombie, true)
        XCTAssertEqual(status?.isKernelThread, false)
        XCTAssertEqual(ProcessStatus(pid: 2, statLine: "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0")?.isKernelThread, true)
        XCTAssertEqual(status?.isExiting, false)
        // 4202564 = 4202560 | PF_EXITING: in exit(), not yet a zombie.
        XCTAssertEqual(ProcessStatus(pid: 9, statLine: "9 (python3) R 1 9 9 0 -1 4202564 0 0")?.isExiting, true)
    }

}
