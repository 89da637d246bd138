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
///
/// A file's table stays while any process maps it. When its last user exits
/// or unmaps it, the table is kept as a cache (the next short-lived process
/// maps the same libc) until its room is needed: then the tables unused the
/// longest are evicted, once unused for a grace period (a sample in flight
/// may still read them). So a recording of any length keeps unwinding new
/// files as long as the files in use at once fit.
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
        /// Files compiled, rows and pages written, over the whole recording.
        public var files = 0
        public var rows = 0
        public var pages = 0
        /// Tables of files no process mapped any more, evicted for room.
        public var filesEvicted = 0
        /// Rows of files some process maps now.
        public var rowsInUse = 0
        /// The most rows held at once, unused cached tables included.
        public var peakRowsHeld = 0
        public var filesWithoutCFI = 0
        public var processes = 0
        public var tableFull = false
        /// Mapping-added records from the kernel, and the re-reads they caused.
        public var mappingEvents = 0
        public var reloadsFromEvents = 0
        /// Re-reads because a sample's pc was outside the known mappings.
        public var reloadsFromUnknownPCs = 0
    }

    private let store: UnwindTableStore?
    private var rowSpace: RangeAllocator
    private var pageSpace: RangeAllocator
    /// Files no process maps, with when their last user left, oldest first:
    /// their tables are evicted in this order when room is needed.
    private var unused: [(key: String, since: Double)] = []
    /// How long an unused table stays untouched before eviction.
    var evictionGraceSeconds = 1.0
    /// Unused tables kept at most (their bookkeeping is in user memory).
    var maximumUnusedFiles = 4096
    private var placements: [String: Placement] = [:]
    /// Which processes use each file's table, and which files each uses.
    private var users: [String: Set<Int32>] = [:]
    private var filesInUse: [Int32: Set<String>] = [:]
    /// Processes whose maps have been read.
    private var prepared = Set<Int32>()
    /// When each process's maps were last re-read for a pc outside them.
    private var lastUnknownPCReload: [Int32: Double] = [:]
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

    convenience init(sampler: Sampler) {
        self.init(store: SamplerUnwindTables(sampler: sampler))
    }

    /// A nil store turns CFI unwinding off: frame pointers everywhere.
    init(store: UnwindTableStore?) {
        self.store = store
        rowSpace = RangeAllocator(capacity: store?.rowCapacity ?? 0)
        pageSpace = RangeAllocator(capacity: store?.pageCapacity ?? 0)
    }

    /// Tables for the process now: for processes known before sampling
    /// starts, so their first samples are unwound from CFI too.
    func prepareNow(_ pid: Int32) {
        queue.sync { [self] in
            guard !prepared.contains(pid) else { return }
            load(pid)
        }
    }

    /// Runs `work` on the queue, at pyrograph's priority: libdispatch's
    /// worker threads start at nice 0 whatever their creator's, and one
    /// starved there on a saturated host (it was also the last thread out,
    /// which unmaps the process's memory: the exit took seconds).
    private func onQueue(after delay: Double = 0, _ work: @escaping () -> Void) {
        if delay > 0 {
            queue.asyncAfter(deadline: .now() + delay) { OwnPriority.adoptOnThisThread(); work() }
        } else {
            queue.async { OwnPriority.adoptOnThisThread(); work() }
        }
    }

    /// Tables for the process, unless it already has them.
    func prepare(_ pid: Int32) {
        onQueue { [self] in
            guard !prepared.contains(pid) else { return }
            load(pid)
        }
    }

    /// A sample's walk hit a pc outside the process's known mappings: a
    /// library loaded since (dlopen). Re-read the maps, rate-limited. The
    /// first such pc of a process is served at once whenever its maps were
    /// read: a library mapped between that read and the mapping hook's
    /// attach sends no event, and waiting out the interval from the read
    /// once cut 176 ms of a ctypes workload's stacks short.
    func mappingsChanged(_ pid: Int32) {
        onQueue { [self] in
            guard prepared.contains(pid) else { return }
            let now = MonotonicClock.now()
            if let last = lastUnknownPCReload[pid], now - last < NativeUnwindTracker.refreshInterval { return }
            lastUnknownPCReload[pid] = now
            statistics.reloadsFromUnknownPCs += 1
            load(pid)
        }
    }

    /// The kernel saw the process map code. The first event is served at
    /// once, so a lone dlopen's tables are in before most of its first
    /// samples; processes not prepared yet get everything when they are.
    func mappingAdded(_ pid: Int32) {
        onQueue { [self] in
            statistics.mappingEvents += 1
            guard prepared.contains(pid) else { return }
            if coalescing.contains(pid) {
                eventsPending.insert(pid)
            } else {
                reloadForEvents(pid)
            }
        }
    }

    func processExited(_ pid: Int32) {
        onQueue { [self] in
            prepared.remove(pid)
            lastUnknownPCReload.removeValue(forKey: pid)
            processesWithTables.remove(pid)
            for key in filesInUse.removeValue(forKey: pid) ?? [] { release(key, by: pid) }
        }
    }

    /// The process no longer uses the file's table; when no process does,
    /// the table joins the unused ones.
    private func release(_ key: String, by pid: Int32) {
        users[key]?.remove(pid)
        guard users[key]?.isEmpty ?? true else { return }
        users.removeValue(forKey: key)
        statistics.rowsInUse -= Int(placements[key]?.count ?? 0)
        unused.append((key, MonotonicClock.now()))
        while unused.count > maximumUnusedFiles { evict(unused.removeFirst().key) }
    }

    /// A process maps the file again: its table is in use once more.
    private func reuse(_ key: String) {
        guard users[key] == nil, let index = unused.firstIndex(where: { $0.key == key }) else { return }
        unused.remove(at: index)
        statistics.rowsInUse += Int(placements[key]?.count ?? 0)
    }

    /// Evicts unused tables, longest unused first, until `rows` rows and
    /// `pages` pages fit; false if they do not fit even then.
    private func makeRoom(rows: Int, pages: Int) -> Bool {
        let now = MonotonicClock.now()
        while !(rowSpace.fits(rows) && pageSpace.fits(pages)) {
            guard let oldest = unused.first, now - oldest.since >= evictionGraceSeconds else { return false }
            unused.removeFirst()
            evict(oldest.key)
        }
        return true
    }

    private func evict(_ key: String) {
        lowestAddresses.removeValue(forKey: key)
        guard let placement = placements.removeValue(forKey: key) else { return }
        statistics.filesEvicted += 1
        rowSpace.release(Int(placement.start)..<Int(placement.start + placement.count))
        pageSpace.release(Int(placement.pagesStart)..<Int(placement.pagesStart + placement.pageCount))
    }

    private func reloadForEvents(_ pid: Int32) {
        statistics.reloadsFromEvents += 1
        load(pid)
        coalescing.insert(pid)
        onQueue(after: NativeUnwindTracker.eventCoalescingInterval) { [self] in
            coalescing.remove(pid)
            if eventsPending.remove(pid) != nil, prepared.contains(pid) { reloadForEvents(pid) }
        }
    }

    /// Skips the work still queued: sampling has stopped.
    func abandonQueuedWork() { abandoned.set() }

    /// Waits for queued work, so tests and summaries see the final state.
    func currentStatistics() -> Statistics {
        queue.sync { statistics }
    }

    private func load(_ pid: Int32) {
        guard store != nil, !abandoned.isSet else { return }
        prepared.insert(pid)
        let directory = ProcessDirectory(pid: pid)
        guard let mappings = try? directory.mappings() else { return }
        var firstStart: [String: UInt64] = [:]
        for mapping in mappings where mapping.isFileBacked {
            firstStart[mapping.fileKey] = min(firstStart[mapping.fileKey] ?? .max, mapping.start)
        }
        if let vdso = mappings.first(where: { $0.path == "[vdso]" }) { firstStart["[vdso]"] = vdso.start }
        var entries: [pyro_unwind_mapping] = []
        var keys = Set<String>()
        for mapping in mappings where mapping.isExecutable && (mapping.isFileBacked || mapping.path == "[vdso]") {
            guard let (placement, lowest) = table(for: mapping, in: directory) else { continue }
            let fileKey = mapping.path == "[vdso]" ? "[vdso]" : mapping.fileKey
            keys.insert(fileKey)
            reuse(fileKey)
            users[fileKey, default: []].insert(pid)
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
        if (try? store?.setUnwindProcess(pid: pid, process)) != nil, processesWithTables.insert(pid).inserted {
            statistics.processes += 1
        }
        // Files the process unmapped since its last read (dlclose); the
        // kernel's entry for it no longer points at them.
        for key in filesInUse[pid, default: []].subtracting(keys) { release(key, by: pid) }
        filesInUse[pid] = keys
    }

    /// Where the file's rows are, compiling and copying them on first use,
    /// with the file's lowest load address (for the bias).
    private var lowestAddresses: [String: UInt64] = [:]

    private func table(for mapping: MemoryMapping, in directory: ProcessDirectory) -> (Placement, UInt64)? {
        let isVDSO = mapping.path == "[vdso]"
        let key = isVDSO ? "[vdso]" : mapping.fileKey
        if let placement = placements[key], let lowest = lowestAddresses[key] { return (placement, lowest) }
        guard store != nil else { return nil }
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
        var placement = Placement(start: 0, count: 0)
        if let compiled, !compiled.rows.isEmpty {
            let index = UnwindPageIndex(rows: compiled.rows)
            if makeRoom(rows: compiled.rows.count, pages: index.pages.count),
               let rowStart = rowSpace.allocate(compiled.rows.count),
               let pageStart = pageSpace.allocate(index.pages.count) {
                store?.storeRows(compiled.rows, at: rowStart)
                store?.storePages(index.pages, at: pageStart)
                placement = Placement(start: UInt32(rowStart), count: UInt32(compiled.rows.count),
                                      pagesStart: UInt32(pageStart), pageCount: UInt32(index.pages.count),
                                      firstPagePC: index.firstPagePC)
                statistics.rows += compiled.rows.count
                statistics.pages += index.pages.count
                statistics.rowsInUse += compiled.rows.count
                statistics.peakRowsHeld = rowSpace.peakInUse
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
