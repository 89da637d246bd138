import BPFSampler
import CPyrograph

/// Where `NativeUnwindTracker` puts compiled unwind tables: the kernel's
/// mmapped arrays and its per-process map while recording, memory in tests,
/// so the tracker's bookkeeping is tested without root or BPF.
protocol UnwindTableStore: AnyObject {
    var rowCapacity: Int { get }
    var pageCapacity: Int { get }
    func storeRows(_ rows: [pyro_unwind_row], at start: Int)
    func storePages(_ pages: [pyro_unwind_page], at start: Int)
    func setUnwindProcess(pid: Int32, _ process: UnsafePointer<pyro_unwind_process>) throws
}

/// The sampler's BPF maps as an `UnwindTableStore`.
final class SamplerUnwindTables: UnwindTableStore {
    private let sampler: Sampler
    private let rows: MappedArray<pyro_unwind_row>
    private let pages: MappedArray<pyro_unwind_page>

    /// Nil if CFI unwinding is off or the arrays cannot be mapped.
    init?(sampler: Sampler) {
        guard let tables = sampler.mapUnwindTables() else { return nil }
        self.sampler = sampler
        rows = tables.rows
        pages = tables.pages
    }

    var rowCapacity: Int { rows.capacity }
    var pageCapacity: Int { pages.capacity }

    func storeRows(_ rows: [pyro_unwind_row], at start: Int) {
        for (offset, row) in rows.enumerated() { self.rows[start + offset] = row }
    }

    func storePages(_ pages: [pyro_unwind_page], at start: Int) {
        for (offset, page) in pages.enumerated() { self.pages[start + offset] = page }
    }

    func setUnwindProcess(pid: Int32, _ process: UnsafePointer<pyro_unwind_process>) throws {
        try sampler.setUnwindProcess(pid: pid, process)
    }
}
