import CPyrograph
import Glibc

/// Owns the loaded BPF programs, their perf events and links. Follows
/// libbpf's order: open, configure, load, attach. Everything is detached
/// and freed in `deinit`, whichever way the recording ends.
public final class Sampler {
    public struct Configuration: Sendable {
        public var frequency: UInt64
        /// The time each cpu-clock sample stands for: the event's period.
        public var samplePeriodNanoseconds: UInt64 { frequency > 0 ? 1_000_000_000 / frequency : 0 }
        /// Sample only the processes added with `addTarget` (and their
        /// children); otherwise every process on the host.
        public var filterByPID: Bool
        public var cpus: [Int]
        /// Rows of compiled CFI the kernel holds for all processes (16 bytes
        /// each); 0 disables CFI unwinding.
        public var unwindRowCapacity: UInt32
        /// Entries of the rows' page index (8 bytes per 1 KiB of code).
        public var unwindPageCapacity: UInt32
        /// Sample threads on CPU with the cpu-clock event.
        public var samplesOnCPU: Bool
        /// Record every interval a wanted thread spends off CPU (the
        /// sched_switch hook); not loaded otherwise.
        public var recordsOffCPU: Bool
        /// Read each Python record's GIL state (`--gil`).
        public var tracksGIL: Bool
        /// The probability of recording each switch-out (1: all); the kept
        /// intervals stand for 1/probability as many.
        public var offCPUSamplingProbability: Double = 1

        /// The BPF side's threshold for a random u32.
        var offCPUKeepBelow: UInt32 {
            offCPUSamplingProbability >= 1 ? UInt32.max
                : UInt32(max(0, min(Double(UInt32.max - 1), offCPUSamplingProbability * 4_294_967_296)))
        }
        /// Sample the processes the interpreter start probe finds (a
        /// whole-host Python-only recording); see `attachPythonStartProbe`.
        public var pythonStartsAreTargets = false

        public init(frequency: UInt64, filterByPID: Bool, cpus: [Int], unwindRowCapacity: UInt32 = 0,
                    unwindPageCapacity: UInt32 = 0, samplesOnCPU: Bool = true, recordsOffCPU: Bool = false,
                    tracksGIL: Bool = false) {
            self.tracksGIL = tracksGIL
            self.samplesOnCPU = samplesOnCPU
            self.recordsOffCPU = recordsOffCPU
            self.frequency = frequency
            self.filterByPID = filterByPID
            self.cpus = cpus
            self.unwindRowCapacity = unwindRowCapacity
            self.unwindPageCapacity = unwindPageCapacity
        }
    }

    let skeleton: OpaquePointer
    /// Destroyed by `detach`: the cpu-clock events.
    var links: [OpaquePointer] = []
    /// The start probes, released by `releaseStartProbes`: perf-event
    /// uprobes, and uprobe_multi links held as bare descriptors.
    var startProbeLinks: [OpaquePointer] = []
    var linkDescriptors: [Int32] = []
    /// Interpreter files with a start probe, by the probe's cookie.
    public internal(set) var pythonStartProbes: [String] = []
    public let configuration: Configuration
    /// Whether the kernel reports new code mappings as they are made;
    /// without it, new code is found when a sample's pc lands in it.
    public private(set) var mappingEventsAvailable = false

    public init(configuration: Configuration) throws {
        let btf = "/sys/kernel/btf/vmlinux"
        guard access(btf, R_OK) == 0 else { throw SamplerError.btfUnavailable(path: btf) }
        pyro_libbpf_capture_log(false)
        pyro_libbpf_log_clear()
        var error: Int32 = 0
        guard let skeleton = pyro_bpf_open(&error) else {
            throw SamplerError.openFailed(errno: error, log: Sampler.libbpfLog())
        }
        self.skeleton = skeleton
        self.configuration = configuration
        let configured = pyro_bpf_configure(skeleton, configuration.filterByPID, configuration.samplePeriodNanoseconds,
                                            configuration.unwindRowCapacity, configuration.unwindPageCapacity)
        guard configured == 0 else { throw SamplerError.openFailed(errno: configured, log: Sampler.libbpfLog()) }
        pyro_bpf_choose_mapping_events(skeleton)
        pyro_bpf_choose_off_cpu(skeleton, configuration.recordsOffCPU)
        pyro_bpf_track_gil(skeleton, configuration.tracksGIL)
        pyro_bpf_sample_off_cpu(skeleton, configuration.offCPUKeepBelow)
        pyro_bpf_configure_python_starts(skeleton, configuration.pythonStartsAreTargets)
        let loaded = pyro_bpf_load(skeleton)
        // On failure, deinit destroys the skeleton.
        guard loaded == 0 else { throw SamplerError.loadFailed(errno: loaded, log: Sampler.libbpfLog()) }
    }

    deinit {
        destroyLinks()
        destroyStartProbes()
        pyro_bpf_destroy(skeleton)
    }

    /// Starts sampling: the hooks first, so no fork or new mapping is
    /// missed once samples flow.
    public func attach() throws {
        let hooks = pyro_bpf_attach_scheduler_hooks(skeleton)
        guard hooks == 0 else {
            throw SamplerError.attachFailed(what: "the scheduler tracepoints", errno: hooks, log: Sampler.libbpfLog())
        }
        mappingEventsAvailable = pyro_bpf_attach_mapping_events(skeleton) == 0
        if configuration.recordsOffCPU {
            let offCPU = pyro_bpf_attach_off_cpu(skeleton)
            guard offCPU == 0 else {
                throw SamplerError.attachFailed(what: "the off-CPU hook (tp_btf/sched_switch)", errno: offCPU,
                                                log: Sampler.libbpfLog())
            }
        }
        for cpu in configuration.cpus where configuration.samplesOnCPU {
            var error: Int32 = 0
            guard let link = pyro_bpf_attach_cpu_clock(skeleton, Int32(cpu), configuration.frequency, &error) else {
                throw SamplerError.attachFailed(what: "the cpu-clock sampler on CPU \(cpu)", errno: error,
                                                log: Sampler.libbpfLog())
            }
            links.append(link)
        }
    }

    public func addTarget(pid: Int32) throws {
        var key = UInt32(bitPattern: pid)
        var one: UInt8 = 1
        let fd = bpf_map__fd(pyro_bpf_map(skeleton, PYRO_MAP_TARGET_PIDS))
        guard bpf_map_update_elem(fd, &key, &one, UInt64(BPF_ANY)) == 0 else {
            throw SamplerError.mapUpdateFailed(what: "target_pids", errno: errno)
        }
    }

    /// The processes in the kernel's target set (-p, --, and the children
    /// they fork). The exit hook removes each as it exits.
    public func targetPIDs() -> [Int32] {
        let fd = bpf_map__fd(pyro_bpf_map(skeleton, PYRO_MAP_TARGET_PIDS))
        var pids: [Int32] = []
        var key: UInt32 = 0
        var next: UInt32 = 0
        var found = bpf_map_get_next_key(fd, nil, &next) == 0
        while found {
            pids.append(Int32(bitPattern: next))
            key = next
            found = bpf_map_get_next_key(fd, &key, &next) == 0
        }
        return pids
    }

    public var eventsMapFD: Int32 { bpf_map__fd(pyro_bpf_map(skeleton, PYRO_MAP_EVENTS)) }

    public func stats() -> SamplerStats {
        let fd = bpf_map__fd(pyro_bpf_map(skeleton, PYRO_MAP_STATS))
        let cpuCount = Int(libbpf_num_possible_cpus())
        var totals = [UInt64](repeating: 0, count: Int(PYRO_STAT_COUNT.rawValue))
        var perCPU = [UInt64](repeating: 0, count: max(cpuCount, 1))
        for index in totals.indices {
            var key = UInt32(index)
            guard bpf_map_lookup_elem(fd, &key, &perCPU) == 0 else { continue }
            totals[index] = perCPU.reduce(0, &+)
        }
        return SamplerStats(values: totals)
    }

    static func libbpfLog() -> String {
        var buffer = [CChar](repeating: 0, count: 1 << 16)
        let n = pyro_libbpf_log_copy(&buffer, buffer.count)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func onlineCPUs() -> [Int] {
        let text = (try? readText("/sys/devices/system/cpu/online")) ?? "0"
        return OnlineCPUs.parse(text)
    }

    static func readText(_ path: String) throws -> String {
        guard let file = fopen(path, "r") else { throw SamplerError.attachFailed(what: path, errno: errno, log: "") }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return "" }
        return String(cString: buffer)
    }
}

extension Sampler {
    /// Stops sampling: destroys the perf events and the hooks' links, so the
    /// ring buffer can then be drained to the last record. The start probes
    /// stay until `releaseStartProbes` (what they send is only a process
    /// to name, harmless to a stopped reader).
    public func detach() {
        destroyLinks()
        pyro_bpf_detach_hooks(skeleton)
    }

    /// Detaches the start probes without waiting for the kernel: a child
    /// process takes their last references and waits in its place (see
    /// pyro_release_in_background). Returns that child's pid, if one was
    /// needed and started; otherwise the probes were released here.
    @discardableResult
    public func releaseStartProbes() -> Int32? {
        let descriptors = linkDescriptors + startProbeLinks.map { bpf_link__fd($0) }
        var go: Int32 = -1
        let helper = pyro_release_in_background(descriptors, descriptors.count, &go)
        destroyStartProbes()
        if go >= 0 { close(go) }
        return helper > 0 ? helper : nil
    }

    private func destroyLinks() {
        var pointers: [OpaquePointer?] = links
        pyro_bpf_destroy_links(&pointers, pointers.count, nil, 0)
        links.removeAll()
    }

    private func destroyStartProbes() {
        var pointers: [OpaquePointer?] = startProbeLinks
        pyro_bpf_destroy_links(&pointers, pointers.count, linkDescriptors, linkDescriptors.count)
        startProbeLinks.removeAll()
        linkDescriptors.removeAll()
    }
}

extension Sampler {
    /// Tells the walker how to read one process's interpreter.
    public func setPythonLayout(pid: Int32, layout: pyro_python_layout) throws {
        var key = UInt32(bitPattern: pid)
        var value = layout
        let fd = bpf_map__fd(pyro_bpf_map(skeleton, PYRO_MAP_PYTHON_LAYOUTS))
        guard bpf_map_update_elem(fd, &key, &value, UInt64(BPF_ANY)) == 0 else {
            throw SamplerError.mapUpdateFailed(what: "python_layouts", errno: errno)
        }
    }

    public func removePythonLayout(pid: Int32) {
        var key = UInt32(bitPattern: pid)
        _ = bpf_map_delete_elem(bpf_map__fd(pyro_bpf_map(skeleton, PYRO_MAP_PYTHON_LAYOUTS)), &key)
    }
}

extension Sampler {
    /// The kernel's unwind rows and their page index, writable in place;
    /// nil if CFI unwinding is off or the maps cannot be mapped.
    public func mapUnwindTables() -> (rows: MappedArray<pyro_unwind_row>, pages: MappedArray<pyro_unwind_page>)? {
        guard configuration.unwindRowCapacity > 0, configuration.unwindPageCapacity > 0,
              let rows = mapArray(PYRO_MAP_UNWIND_ROWS, pyro_unwind_row.self, capacity: configuration.unwindRowCapacity),
              let pages = mapArray(PYRO_MAP_UNWIND_PAGES, pyro_unwind_page.self, capacity: configuration.unwindPageCapacity)
        else { return nil }
        return (rows, pages)
    }

    private func mapArray<Element>(_ which: pyro_map, _: Element.Type, capacity: UInt32) -> MappedArray<Element>? {
        var stride = 0
        guard let memory = pyro_bpf_map_array(skeleton, which, &stride) else { return nil }
        return MappedArray(base: memory, stride: stride, capacity: Int(capacity))
    }

    public func setUnwindProcess(pid: Int32, _ process: UnsafePointer<pyro_unwind_process>) throws {
        var key = UInt32(bitPattern: pid)
        let fd = bpf_map__fd(pyro_bpf_map(skeleton, PYRO_MAP_UNWIND_PROCESSES))
        guard bpf_map_update_elem(fd, &key, process, UInt64(BPF_ANY)) == 0 else {
            throw SamplerError.mapUpdateFailed(what: "unwind_processes", errno: errno)
        }
    }
}
