import XCTest
@testable import Recording

final class RetiredProcessesTests: XCTestCase {
    /// Exited processes are kept for samples still in flight, then forgotten.
    func testKeptForAWhileThenEvicted() {
        var retired = RetiredProcesses<String>()
        retired.retire(10, "ten", now: 100)
        retired.retire(11, "eleven", now: 101)
        XCTAssertEqual(retired[10], "ten")
        XCTAssertEqual(retired.evict(now: 101.5), [])
        XCTAssertEqual(retired.evict(now: 102.5), ["ten"])
        XCTAssertNil(retired[10])
        XCTAssertEqual(retired[11], "eleven")
        XCTAssertEqual(retired.evict(now: 200), ["eleven"])
        XCTAssertEqual(retired.count, 0)
    }
}
