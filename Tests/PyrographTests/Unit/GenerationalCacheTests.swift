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

    /// A generation also ends when it is old: what was not used for two
    /// generations is gone, however few entries came in.
    func testDropsWhatWasNotUsedForTwoGenerations() {
        var clock = 0.0
        var cache = GenerationalCache<Int, String>(generationSize: 1000, maximumAgeSeconds: 30, now: { clock })
        cache.insert("kept", for: 0)
        cache.insert("dropped", for: 1)
        clock = 31
        cache.insert("young", for: 2) // the first generation is now the old one
        XCTAssertEqual(cache[0], "kept", "used while old: promoted")
        clock = 62
        cache.insert("newer", for: 3)
        XCTAssertNil(cache[1], "unused for two generations")
        XCTAssertEqual(cache[0], "kept")
        XCTAssertEqual(cache[2], "young")
        XCTAssertEqual(cache.count, 3)
    }
}
