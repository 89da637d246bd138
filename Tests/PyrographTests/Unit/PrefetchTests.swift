import Foundation
import Glibc
import Synchronization
import XCTest
@testable import Recording

/// The stop reads set-aside stacks back on a second thread: items must
/// come in order, be made on that thread, and never pile up past `ahead`.
final class PrefetchTests: XCTestCase {
    func testItemsComeInOrderAndAreMadeOnAnotherThread() {
        let caller = pthread_self()
        let makers = Mutex<Set<pthread_t>>([])
        let prefetch = Prefetch(count: 6) { index -> Int in
            makers.withLock { _ = $0.insert(pthread_self()) }
            return index * 10
        }
        XCTAssertEqual((0..<6).map { _ in prefetch.next() }, [0, 10, 20, 30, 40, 50])
        let threads = makers.withLock { $0 }
        XCTAssertEqual(threads.count, 1, "one thread makes them all")
        XCTAssertFalse(threads.contains(caller), "made on the caller's thread")
    }

    func testAtMostAheadItemsWaitToBeTaken() {
        let made = Mutex(0)
        let prefetch = Prefetch(count: 10, ahead: 1) { index -> Int in
            made.withLock { $0 += 1 }
            return index
        }
        XCTAssertEqual(prefetch.next(), 0)
        // Item 0 taken and item 1 made (however late the thread runs on a
        // loaded host), then nothing more: the thread waits for room.
        let deadline = Date().addingTimeInterval(10)
        while made.withLock({ $0 }) < 2 && Date() < deadline { usleep(1_000) }
        usleep(200_000)
        XCTAssertEqual(made.withLock { $0 }, 2)
        XCTAssertEqual((1..<10).map { _ in prefetch.next() }, Array(1..<10))
        XCTAssertEqual(made.withLock { $0 }, 10)
    }

    /// Items given back are freed on the thread that made them (item i
    /// when it makes item i + 2), not in the caller's allocator arena.
    func testItemsGivenBackAreFreedByTheirMaker() {
        let caller = pthread_self()
        let freedOn = Mutex<[Int: pthread_t]>([:])
        final class Item {
            let index: Int
            let freed: (Int) -> Void
            init(_ index: Int, freed: @escaping (Int) -> Void) { (self.index, self.freed) = (index, freed) }
            deinit { freed(index) }
        }
        let prefetch = Prefetch(count: 6) { index in
            Item(index) { index in freedOn.withLock { $0[index] = pthread_self() } }
        }
        for expected in 0..<6 {
            let item = prefetch.next()
            XCTAssertEqual(item.index, expected)
            prefetch.giveBack(item)
        }
        let freed = freedOn.withLock { $0 }
        for index in 0..<4 {
            XCTAssertNotNil(freed[index], "item \(index) not freed yet")
            if let thread = freed[index] { XCTAssertNotEqual(thread, caller, "item \(index) freed by the caller") }
        }
    }
}
