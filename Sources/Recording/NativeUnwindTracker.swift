import BPFSampler
import CPyrograph
import Dispatch
import NativeUnwinding
import ProcessInspection
import Symbolization

/// Gives processes CFI unwinding: compiles the unwind table of every file a
/// process maps executable (once per file, shared by all processes mapping
/// it), copies it into the kernel's mmapped row array, and lists the
/// process's mappings with where their rows lie.
///
/// Compiling a large library's CFI takes long enough to stall the ring
/// buffer, so all of this runs on a serial queue of its own; until a
/// process's tables are in, the kernel falls back to frame pointers.
public final class NativeUnwindTracker {
    /// Where one file's rows and page index lie in the kernel's arrays.
    struct Placement {
        var start: UInt32
        var count: UInt32
        var pagesStart: UInt32 = 0
        var pageCount: UInt32 = 0
        var firstPagePC: UInt32 = 0
    }

    public struct Statistics {
        public var files = 0
        public var rows = 0
        public var pages = 0
        public var filesWithoutCFI = 0
        public var processes = 0
        public var tableFull = false
        /// Mapping-added records from the kernel, and the re-reads they caused.
        public var mappingEvents = 0
        public var reloadsFromEvents = 0
        /// Re-reads because a sample's pc was outside the known mappings.
        public var reloadsFromUnknownPCs = 0
    }

    private let sampler: Sampler
    private let tables: (rows: MappedArray<pyro_unwind_row>, pages: MappedArray<pyro_unwind_page>)?
    private var rowsUsed = 0
    private var pagesUsed = 0
    private var placements: [String: Placement] = [:]
    /// When each process's maps were last read (MonotonicClock.now()).
    private var prepared: [Int32: Double] = [:]
    private var processesWithTables = Set<Int32>()
    /// Processes re-read for a mapping event less than
    /// eventCoalescingInterval ago, and those with events since.
    private var coalescing = Set<Int32>()
    private var eventsPending = Set<Int32>()
    private var statistics = Statistics()

    /// A process whose walk left known mappings is re-read at most this often.
    static let refreshInterval = 0.5
    /// After a re-read for a mapping event, further events of the process
    /// wait this long and share one more re-read: a program importing thirty
    /// extension modules at start-up sends thirty.
    static let eventCoalescingInterval = 0.02

    private let queue = DispatchQueue(label: "pyrograph.unwind-tables")
    /// Set when sampling has stopped: tables queued for then are useless,
    /// and waiting for a backlog of them once held a stop for 24 s.
    private let abandoned = StopFlag()

    init(sampler: Sampler) {
        self.sampler = sampler
        tables = sampler.mapUnwindTables()
    }

    /// Tables for the process now: for processes known before sampling
    /// starts, so their first samples are unwound from CFI too.
    func prepareNow(_ pid: Int32) {
        queue.sync { [self] in
            guard prepared[pid] == nil else { return }
            load(pid)
        }
    }

    /// Tables for the process, unless it already has them.
    func prepare(_ pid: Int32) {
        queue.async { [self] in
            guard prepared[pid] == nil else { return }
            load(pid)
        }
    }

    /// A sample's walk hit a pc outside the process's known mappings: a
    /// library loaded since (dlopen). Re-read the maps, rate-limited.
    func mappingsChanged(_ pid: Int32) {
        queue.async { [self] in
            guard let last = prepared[pid], MonotonicClock.now() - last >= NativeUnwindTracker.refreshInterval else { return }
            statistics.reloadsFromUnknownPCs += 1
            load(pid)
        }
    }

    /// The kernel saw the process map code. The first event is served at
    /// once, so a lone dlopen's tables are in before most of its first
    /// samples; processes not prepared yet get everything when they are.
    func mappingAdded(_ pid: Int32) {
        queue.async { [self] in
            statistics.mappingEvents += 1
            guard prepared[pid] != nil else { return }
            if coalescing.contains(pid) {
                eventsPending.insert(pid)
            } else {
                reloadForEvents(pid)
            }
        }
    }

    func processExited(_ pid: Int32) {
        queue.async { [self] in _ = prepared.removeValue(forKey: pid) }
    }

    private func reloadForEvents(_ pid: Int32) {
        statistics.reloadsFromEvents += 1
        load(pid)
        coalescing.insert(pid)
        queue.asyncAfter(deadline: .now() + NativeUnwindTracker.eventCoalescingInterval) { [self] in
            coalescing.remove(pid)
            if eventsPending.remove(pid) != nil, prepared[pid] != nil { reloadForEvents(pid) }
        }
    }

    /// Skips the work still queued: sampling has stopped.
    func abandonQueuedWork() { abandoned.set() }

    /// Waits for queued work, so tests and summaries see the final state.
    func currentStatistics() -> Statistics {
        queue.sync { statistics }
    }

    private func load(_ pid: Int32) {
        guard tables != nil, !abandoned.isSet else { return }
        // The tracker's own clock: the recorder's restarts when sampling does.
        prepared[pid] = MonotonicClock.now()
        let directory = ProcessDirectory(pid: pid)
        guard let mappings = try? directory.mappings() else { return }
        var firstStart: [String: UInt64] = [:]
        for mapping in mappings where mapping.isFileBacked {
            firstStart[mapping.fileKey] = min(firstStart[mapping.fileKey] ?? .max, mapping.start)
        }
        if let vdso = mappings.first(where: { $0.path == "[vdso]" }) { firstStart["[vdso]"] = vdso.start }
        var entries: [pyro_unwind_mapping] = []
        for mapping in mappings where mapping.isExecutable && (mapping.isFileBacked || mapping.path == "[vdso]") {
            guard let (placement, lowest) = table(for: mapping, in: directory) else { continue }
            let fileKey = mapping.path == "[vdso]" ? "[vdso]" : mapping.fileKey
            let bias = (firstStart[fileKey] ?? mapping.start) &- (lowest & ~0xfff)
            entries.append(pyro_unwind_mapping(start: mapping.start, end: mapping.end, bias: bias,
                                               table_start: placement.start, table_count: placement.count,
                                               pages_start: placement.pagesStart, page_count: placement.pageCount,
                                               first_page_pc: placement.firstPagePC, reserved: 0))
            if entries.count == Int(PYRO_MAX_UNWIND_MAPPINGS) { break }
        }
        entries.sort { $0.start < $1.start }
        let process = UnsafeMutablePointer<pyro_unwind_process>.allocate(capacity: 1)
        defer { process.deallocate() }
        process.initialize(to: pyro_unwind_process())
        process.pointee.count = UInt32(entries.count)
        withUnsafeMutableBytes(of: &process.pointee.mappings) { raw in
            let slots = raw.bindMemory(to: pyro_unwind_mapping.self)
            for (index, entry) in entries.enumerated() { slots[index] = entry }
        }
        if (try? sampler.setUnwindProcess(pid: pid, process)) != nil {
            processesWithTables.insert(pid)
            statistics.processes = processesWithTables.count
        }
    }

    /// Where the file's rows are, compiling and copying them on first use,
    /// with the file's lowest load address (for the bias).
    private var lowestAddresses: [String: UInt64] = [:]

    private func table(for mapping: MemoryMapping, in directory: ProcessDirectory) -> (Placement, UInt64)? {
        let isVDSO = mapping.path == "[vdso]"
        let key = isVDSO ? "[vdso]" : mapping.fileKey
        if let placement = placements[key], let lowest = lowestAddresses[key] { return (placement, lowest) }
        guard let tables else { return nil }
        var compiled: UnwindTable?
        var lowest: UInt64?
        let candidates = isVDSO ? [VDSOImage.path(from: directory, mapping: mapping)].compactMap { $0 }
            : [directory.mappedFilePath(mapping), directory.rootedPath(mapping.path)]
        for path in candidates {
            guard let address = try? ELFFile.lowestLoadAddress(path: path) else { continue }
            lowest = address
            compiled = try? UnwindTable.compile(elfPath: path)
            break
        }
        guard let lowest else { return nil }
        var placement = Placement(start: UInt32(rowsUsed), count: 0)
        if let compiled, !compiled.rows.isEmpty {
            let index = UnwindPageIndex(rows: compiled.rows)
            if rowsUsed + compiled.rows.count <= tables.rows.capacity
                && pagesUsed + index.pages.count <= tables.pages.capacity {
                for (offset, row) in compiled.rows.enumerated() { tables.rows[rowsUsed + offset] = row }
                for (offset, page) in index.pages.enumerated() { tables.pages[pagesUsed + offset] = page }
                placement = Placement(start: UInt32(rowsUsed), count: UInt32(compiled.rows.count),
                                      pagesStart: UInt32(pagesUsed), pageCount: UInt32(index.pages.count),
                                      firstPagePC: index.firstPagePC)
                rowsUsed += compiled.rows.count
                pagesUsed += index.pages.count
                statistics.rows += compiled.rows.count
                statistics.pages += index.pages.count
            } else {
                statistics.tableFull = true
            }
        } else {
            statistics.filesWithoutCFI += 1
        }
        statistics.files += 1
        placements[key] = placement
        lowestAddresses[key] = lowest
        return (placement, lowest)
    }
}
