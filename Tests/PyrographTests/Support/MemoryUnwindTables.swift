import CPyrograph
@testable import Recording

/// The kernel's unwind arrays and per-process map as plain memory, so the
/// tracker's bookkeeping can be checked without BPF. A test stand-in: the
/// real store is `SamplerUnwindTables`.
final class MemoryUnwindTables: UnwindTableStore {
    let rowCapacity: Int
    let pageCapacity: Int
    /// Every range of rows written, in order.
    private(set) var rowWrites: [Range<Int>] = []
    /// Each process's mappings as the tracker last set them.
    private(set) var processes: [Int32: [pyro_unwind_mapping]] = [:]

    init(rowCapacity: Int, pageCapacity: Int) {
        self.rowCapacity = rowCapacity
        self.pageCapacity = pageCapacity
    }

    func storeRows(_ rows: [pyro_unwind_row], at start: Int) {
        precondition(start + rows.count <= rowCapacity)
        rowWrites.append(start..<start + rows.count)
    }

    func storePages(_ pages: [pyro_unwind_page], at start: Int) {
        precondition(start + pages.count <= pageCapacity)
    }

    func setUnwindProcess(pid: Int32, _ process: UnsafePointer<pyro_unwind_process>) throws {
        var copy = process.pointee
        let count = Int(copy.count)
        processes[pid] = withUnsafeBytes(of: &copy.mappings) { raw in
            Array(raw.bindMemory(to: pyro_unwind_mapping.self).prefix(count))
        }
    }

    /// How many of the process's mappings point at rows.
    func mappingsWithTables(_ pid: Int32) -> Int {
        processes[pid]?.filter { $0.table_count > 0 }.count ?? 0
    }

    func forget(_ pid: Int32) {
        processes.removeValue(forKey: pid)
    }

    /// Row ranges of distinct files that the live processes' entries point
    /// at and that overlap: rows reused while still in use.
    func overlappingRowRanges() -> [(Range<UInt32>, Range<UInt32>)] {
        var ranges = Set<Range<UInt32>>()
        for mappings in processes.values {
            for mapping in mappings where mapping.table_count > 0 {
                ranges.insert(mapping.table_start..<mapping.table_start + mapping.table_count)
            }
        }
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        return zip(sorted, sorted.dropFirst()).filter { $0.0.overlaps($0.1) }
    }
}
