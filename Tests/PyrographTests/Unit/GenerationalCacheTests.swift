import XCTest
@testable import PythonRuntime

final class GenerationalCacheTests: XCTestCase {
    /// Bounded, and what is used stays.
    func testKeepsTheRecentlyUsedWithinItsBound() {
        var cache = GenerationalCache<Int, String>(generationSize: 4)
        for key in 0..<4 { cache.insert("v\(key)", for: key) }
        for key in 4..<8 {
            _ = cache[0]
            cache.insert("v\(key)", for: key)
        }
        XCTAssertEqual(cache[0], "v0", "used all along, so kept")
        for key in 8..<100 { cache.insert("v\(key)", for: key) }
        XCTAssertLessThanOrEqual(cache.count, 8)
        XCTAssertNil(cache[1])
        XCTAssertEqual(cache[99], "v99")
    }
}
