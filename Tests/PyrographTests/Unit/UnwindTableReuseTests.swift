import CPyrograph
import Foundation
import NativeUnwinding
import XCTest
@testable import Recording

/// Long recordings: tables of files no process maps any more are evicted
/// when their room is needed, so a table sized for the files in use at once
/// keeps unwinding however many libraries and processes come and go. Real
/// processes and real ELF files; the kernel's arrays are memory
/// (`MemoryUnwindTables`), so no root is needed.
final class UnwindTableReuseTests: XCTestCase {
    func testAllocatorReusesAndMergesFreedRanges() {
        var space = RangeAllocator(capacity: 100)
        let a = space.allocate(30)!, b = space.allocate(30)!, c = space.allocate(30)!
        XCTAssertEqual([a, b, c], [0, 30, 60])
        XCTAssertNil(space.allocate(20), "only 10 left")
        XCTAssertFalse(space.fits(20))
        space.release(a..<a + 30)
        XCTAssertTrue(space.fits(20))
        XCTAssertEqual(space.allocate(20), 0, "first fit in the freed range")
        space.release(0..<20)
        space.release(b..<b + 30)
        XCTAssertEqual(space.free, [0..<60], "neighbours merge")
        space.release(c..<c + 30)
        XCTAssertEqual(space.free, [], "a free tail joins the untouched end")
        XCTAssertEqual(space.end, 0)
        XCTAssertEqual(space.inUse, 0)
        XCTAssertEqual(space.peakInUse, 90)
        XCTAssertEqual(space.allocate(100), 0)
    }

    /// One process loads and unloads 40 distinct libraries, four at a time,
    /// with room for the interpreter's files and six libraries: every
    /// library still gets its table.
    func testLibrariesUnloadedByDlcloseMakeRoom() throws {
        let libraries = try Self.libraryCopies(40)
        let size = try Self.measure(libraries[0])
        let store = MemoryUnwindTables(rowCapacity: size.baseline + 6 * size.perLibrary, pageCapacity: 1 << 18)
        let tracker = NativeUnwindTracker(store: store)
        tracker.evictionGraceSeconds = 0
        let cycler = try Self.cycler()
        defer { cycler.stop() }
        tracker.prepareNow(cycler.pid)
        for batch in stride(from: 0, to: libraries.count, by: 4) {
            for library in libraries[batch..<batch + 4] {
                cycler.send("load \(library.path)")
                try cycler.waitFor("loaded")
            }
            reload(cycler.pid, tracker)
            XCTAssertEqual(tracker.currentStatistics().rowsInUse, size.baseline + 4 * size.perLibrary)
            XCTAssertEqual(store.mappingsWithTables(cycler.pid), size.mappingsWithTables + 4,
                           "every loaded library has its table")
            XCTAssertTrue(store.overlappingRowRanges().isEmpty, "rows of a live file were reused")
            cycler.send("close")
            try cycler.waitFor("closed")
            reload(cycler.pid, tracker)
        }
        let statistics = tracker.currentStatistics()
        XCTAssertFalse(statistics.tableFull)
        XCTAssertGreaterThanOrEqual(statistics.filesEvicted, 34, "only six unused libraries fit beside the rest")
        XCTAssertEqual(statistics.rowsInUse, size.baseline)
    }

    /// Thirty short processes in turn, each mapping its own library: the
    /// files they share stay cached (compiled once), the others make room.
    func testExitedProcessesMakeRoomAndSharedFilesStayCached() throws {
        let libraries = try Self.libraryCopies(30)
        let size = try Self.measure(libraries[0])
        let store = MemoryUnwindTables(rowCapacity: size.baseline + 3 * size.perLibrary, pageCapacity: 1 << 18)
        let tracker = NativeUnwindTracker(store: store)
        tracker.evictionGraceSeconds = 0
        for library in libraries {
            let process = try Self.cycler()
            process.send("load \(library.path)")
            try process.waitFor("loaded")
            tracker.prepareNow(process.pid)
            XCTAssertEqual(store.mappingsWithTables(process.pid), size.mappingsWithTables + 1)
            process.stop()
            store.forget(process.pid)
            tracker.processExited(process.pid)
        }
        let statistics = tracker.currentStatistics()
        XCTAssertFalse(statistics.tableFull)
        XCTAssertEqual(statistics.rowsInUse, 0, "no process maps anything any more")
        XCTAssertEqual(statistics.rows, size.baseline + 30 * size.perLibrary,
                       "the interpreter's files were compiled once, each library once")
        XCTAssertLessThanOrEqual(statistics.peakRowsHeld, size.baseline + 3 * size.perLibrary)
    }

    /// An unused table is not evicted within the grace period (a sample in
    /// flight may still read it): with no other room, the new file goes
    /// without a table. After the period, it gets the evicted rows.
    func testEvictionWaitsForTheGracePeriod() throws {
        let libraries = try Self.libraryCopies(2)
        let size = try Self.measure(libraries[0])
        for grace in [3600.0, 0] {
            let store = MemoryUnwindTables(rowCapacity: size.baseline + size.perLibrary, pageCapacity: 1 << 18)
            let tracker = NativeUnwindTracker(store: store)
            tracker.evictionGraceSeconds = grace
            let cycler = try Self.cycler()
            defer { cycler.stop() }
            tracker.prepareNow(cycler.pid)
            for library in libraries {
                cycler.send("load \(library.path)")
                try cycler.waitFor("loaded")
                reload(cycler.pid, tracker)
                cycler.send("close")
                try cycler.waitFor("closed")
                reload(cycler.pid, tracker)
            }
            let statistics = tracker.currentStatistics()
            if grace > 0 {
                XCTAssertTrue(statistics.tableFull, "the first library's rows were taken within the grace period")
                XCTAssertEqual(statistics.filesEvicted, 0)
            } else {
                XCTAssertFalse(statistics.tableFull)
                XCTAssertEqual(statistics.filesEvicted, 1)
                XCTAssertEqual(store.rowWrites.suffix(2).first, store.rowWrites.last, "the evicted rows are reused")
            }
        }
    }

    /// A library mapped after the process's maps were read, with no mapping
    /// event (it came before the hook was attached): the first sample
    /// outside the known mappings has the maps re-read at once, later ones
    /// at most every `refreshInterval`.
    func testFirstPCOutsideKnownMappingsIsServedAtOnce() throws {
        let library = try Self.libraryCopies(1)[0]
        let store = MemoryUnwindTables(rowCapacity: 1 << 21, pageCapacity: 1 << 18)
        let tracker = NativeUnwindTracker(store: store)
        let cycler = try Self.cycler()
        defer { cycler.stop() }
        tracker.prepareNow(cycler.pid)
        // Read the maps again, quickly now that the tables are compiled:
        // the library comes well within `refreshInterval` of this read.
        reload(cycler.pid, tracker)
        let before = store.mappingsWithTables(cycler.pid)
        cycler.send("load \(library.path)")
        try cycler.waitFor("loaded")
        tracker.mappingsChanged(cycler.pid)
        tracker.mappingsChanged(cycler.pid)
        let statistics = tracker.currentStatistics()
        XCTAssertEqual(statistics.reloadsFromUnknownPCs, 1, "the first re-read at once, the second rate-limited")
        XCTAssertEqual(store.mappingsWithTables(cycler.pid), before + 1, "the library has its table")
    }

    // MARK: - Helpers

    static let python = "/usr/bin/python3.11"

    static func cycler() throws -> LineDrivenProcess {
        let process = try LineDrivenProcess(python, [PythonInterpreters.script("library_cycler.py").path])
        try process.waitFor("ready")
        return process
    }

    /// The rows the cycler's own files need, those of one library, and how
    /// many of the cycler's mappings have a table, with unlimited room.
    static func measure(_ library: URL) throws -> (baseline: Int, perLibrary: Int, mappingsWithTables: Int) {
        let store = MemoryUnwindTables(rowCapacity: 1 << 21, pageCapacity: 1 << 18)
        let tracker = NativeUnwindTracker(store: store)
        let process = try cycler()
        defer { process.stop() }
        tracker.prepareNow(process.pid)
        let baseline = tracker.currentStatistics().rowsInUse
        let mappings = store.mappingsWithTables(process.pid)
        process.send("load \(library.path)")
        try process.waitFor("loaded")
        usleep(30_000)
        tracker.mappingAdded(process.pid)
        let perLibrary = tracker.currentStatistics().rowsInUse - baseline
        XCTAssertGreaterThan(perLibrary, 0, "the library has CFI")
        return (baseline, perLibrary, mappings)
    }

    /// The tracker re-reads a process's maps for a mapping event at once
    /// when none came in the last 20 ms.
    private func reload(_ pid: Int32, _ tracker: NativeUnwindTracker) {
        usleep(30_000)
        tracker.mappingAdded(pid)
        _ = tracker.currentStatistics()
    }

    /// `count` copies of one small library, each its own file (inode).
    static func libraryCopies(_ count: Int) throws -> [URL] {
        let directory = try TestSupport.temporaryDirectory()
        let library = directory.appendingPathComponent("libtiny.so")
        let source = TestSupport.fixtures.appendingPathComponent("native/tiny_library.c")
        let result = try TestSupport.run("/usr/bin/gcc", ["-O1", "-shared", "-fPIC", "-o", library.path, source.path])
        XCTAssertEqual(result.status, 0, "gcc failed: \(result.stderr)")
        return try (0..<count).map { index in
            let copy = directory.appendingPathComponent("libtiny\(index).so")
            try FileManager.default.copyItem(at: library, to: copy)
            return copy
        }
    }
}
