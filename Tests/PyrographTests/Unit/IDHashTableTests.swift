import Aggregation
import XCTest

/// The table under the profile's stacks and the recording's frames: every
/// id is found through growth and shared hashes, and a lookup seldom asks
/// the owner about entries that are not the one it looks for.
final class IDHashTableTests: XCTestCase {
    /// Entries whose hashes are equal in threes (one slot, one tag) and
    /// a table grown from its smallest size: each is found, absent ones not.
    func testEveryIDIsFoundThroughGrowthAndSharedHashes() {
        var table = IDHashTable()
        var entries: [Int] = []
        let hash = { (entry: Int) in entry / 3 }
        for entry in 0..<50_000 {
            XCTAssertNil(table.find(hash: hash(entry), where: { entries[Int($0)] == entry }))
            entries.append(entry)
            table.insert(Int32(entries.count - 1), hash: hash(entry)) { hash(entries[Int($0)]) }
        }
        XCTAssertEqual(table.count, 50_000)
        for entry in stride(from: 0, to: 50_000, by: 7) {
            XCTAssertEqual(table.find(hash: hash(entry), where: { entries[Int($0)] == entry }), Int32(entry))
        }
        XCTAssertNil(table.find(hash: hash(50_001), where: { entries[Int($0)] == 50_001 }))
    }

    /// 100,000 entries, 10,000 lookups of entries not there: the probes
    /// pass several entries each, but only those whose 8-bit tag matches
    /// are compared, about one in 256.
    func testALookupSeldomComparesOtherEntries() {
        var table = IDHashTable()
        var generator = SystemRandomNumberGenerator()
        var hashes: [Int] = []
        for _ in 0..<100_000 {
            hashes.append(Int(truncatingIfNeeded: generator.next() as UInt64))
            table.insert(Int32(hashes.count - 1), hash: hashes.last!) { hashes[Int($0)] }
        }
        var comparisons = 0
        for _ in 0..<10_000 {
            let absent = Int(truncatingIfNeeded: generator.next() as UInt64)
            XCTAssertNil(table.find(hash: absent, where: { _ in
                comparisons += 1
                return false
            }))
        }
        XCTAssertLessThan(comparisons, 1_000, "entries compared in 10,000 lookups of absent entries")
    }
}
