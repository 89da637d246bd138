import BPFSampler
import CPyrograph
import ProcessInspection
import PythonRuntime

/// Keeps the sampler's view of Python processes current: found at start-up
/// by scanning /proc, then from exec events (with retries, since an
/// interpreter maps libpython and initializes after exec) and from samples
/// of forked children. Each process gets its layout in the BPF map and, in
/// Python-only mode, a place in the pid filter.
final class PythonTracker {
    struct Entry {
        var process: PythonProcess
        var symbolizer: PythonSymbolizer
    }

    private let maps: ProcessMapWriter
    private let detector = PythonProcessDetector()
    /// Add detected Python processes to the pid filter.
    private let targetsPython: Bool
    private let excluded: Set<Int32>
    private var entries: [Int32: Entry] = [:]
    /// Exited processes, kept to name samples still in the ring buffer.
    private var retired = RetiredProcesses<Entry>()
    /// Failures counted by the symbolizers of processes forgotten since.
    private(set) var evictedFailures: [PythonSymbolizer.Failure: Int] = [:]
    private var notPython: Set<Int32> = []
    private var pendingChecks: [Int32: [Double]] = [:]
    /// Interpreter files (device:inode) with a start probe, or whose probe
    /// failed (with why, for the summary).
    private var probedFiles: Set<String> = []
    private(set) var startProbeFailures: [String] = []
    /// Processes the start probe caught, the kernel having given each its
    /// layout before it ran Python code.
    private(set) var startsCaught = 0
    /// Live processes whose interpreter cannot be read (so far: one caught
    /// in start-up, before its runtime is readable, is refused until a
    /// retry finds it); `goneUnsupported` keeps what the summary says of
    /// those that exited or exec'd still refused.
    private var unsupported: [Int32: PythonProcess] = [:]
    private var goneUnsupported = UnsupportedInterpreters()
    /// Processes whose Python stacks could not be read, for the summary:
    /// only those still refused when last seen. A 3.13 process read 5 ms
    /// after its exec, before its _Py_DebugOffsets were mapped, was listed
    /// as "not supported" although a retry found it a moment later.
    var unsupportedSummary: UnsupportedInterpreters {
        var summary = goneUnsupported
        for (pid, process) in unsupported.sorted(by: { $0.key < $1.key }) { summary.note(pid: pid, process) }
        return summary
    }
    /// Symbolizers of unsupported interpreters: they name no Python frame,
    /// but say why (the reason frame) and count their samples.
    private var refused: [Int32: PythonSymbolizer] = [:]
    /// Called with each newly supported interpreter's pid.
    var onDetected: ((Int32) -> Void)?

    /// Seconds after an exec to look for an interpreter again: often at
    /// first, as start-up maps libpython and initializes the runtime, then
    /// now and then for a loaded machine's slow starts.
    /// Dense in the first 0.1 s: a program that forks workers as it starts
    /// (a pool made at import) does so within tens of milliseconds, and
    /// only workers forked after their parent was found inherit its layout.
    static let execRetryDelays: [Double] = [0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.15,
                                            0.25, 0.4, 0.6, 0.9, 1.3, 2, 3, 5, 8, 12, 20, 30]

    init(maps: ProcessMapWriter, targetsPython: Bool, excluding excluded: Set<Int32>) {
        self.maps = maps
        self.targetsPython = targetsPython
        self.excluded = excluded
    }

    func scanAll() {
        for pid in (try? ProcessDirectory.allPIDs()) ?? [] where !excluded.contains(pid) {
            _ = inspect(pid)
        }
    }

    /// Only the given processes (`-p`), which may or may not be Python.
    func inspect(pids: [Int32]) {
        for pid in pids { _ = inspect(pid) }
    }

    /// False sends layouts without the code capture (see
    /// `RecordingSession.Options.capturesCode`).
    var capturesCode = true

    /// Which processes to look at: all of them, or (with -p or a command)
    /// only those the kernel's filter lets through.
    var wants: (Int32) -> Bool = { _ in true }

    func processExec(_ pid: Int32, now: Double) {
        guard !excluded.contains(pid), wants(pid) else { return }
        entries.removeValue(forKey: pid)
        refused.removeValue(forKey: pid)
        if let gone = unsupported.removeValue(forKey: pid) { goneUnsupported.note(pid: pid, gone) }
        notPython.remove(pid)
        pendingChecks[pid] = PythonTracker.execRetryDelays.map { now + $0 }
    }

    /// Captures for processes not known yet (a forked child whose first
    /// sample is still to come): handed to its symbolizer once it has one.
    private(set) var codeObjectsCaptured = 0
    private var pendingCaptures: [Int32: [CapturedCodeObject]] = [:]
    private var pendingCaptureCount = 0
    static let pendingCaptureLimit = 65_536

    /// The kernel copied what naming a code object needs: the process's
    /// symbolizer names it from that, even once it is freed.
    func codeCaptured(_ pid: Int32, _ capture: CapturedCodeObject) {
        codeObjectsCaptured += 1
        if let symbolizer = entries[pid]?.symbolizer ?? retired[pid]?.symbolizer {
            symbolizer.add(capture)
        } else if pendingCaptureCount < PythonTracker.pendingCaptureLimit {
            pendingCaptures[pid, default: []].append(capture)
            pendingCaptureCount += 1
        }
    }

    /// The start probe fired: the kernel already walks the process; the
    /// loader reads it now, while it surely lives.
    func processStarted(_ pid: Int32, now: Double) {
        guard !excluded.contains(pid) else { return }
        startsCaught += 1
        notPython.remove(pid)
        if inspect(pid, force: true) != nil { pendingChecks.removeValue(forKey: pid) }
    }

    func processExited(_ pid: Int32, now: Double) {
        pendingChecks.removeValue(forKey: pid)
        if entries[pid] == nil, let captures = pendingCaptures.removeValue(forKey: pid) {
            pendingCaptureCount -= captures.count
        }
        notPython.remove(pid)
        refused.removeValue(forKey: pid)
        if let gone = unsupported.removeValue(forKey: pid) { goneUnsupported.note(pid: pid, gone) }
        if let entry = entries.removeValue(forKey: pid) { retired.retire(pid, entry, now: now) }
    }

    /// Forgets exited processes no sample can still arrive for, keeping
    /// what their symbolizers counted.
    func evictRetired(now: Double) {
        for entry in retired.evict(now: now) {
            evictedFailures.merge(entry.symbolizer.failures, uniquingKeysWith: +)
        }
    }

    /// Seconds until the next exec retry is due, if one is pending.
    func secondsUntilNextCheck(now: Double) -> Double? {
        pendingChecks.values.compactMap(\.first).min().map { max(0, $0 - now) }
    }

    /// Runs the exec retries that are due.
    func tick(now: Double) {
        for (pid, times) in pendingChecks {
            guard let next = times.first, next <= now else { continue }
            let remaining = Array(times.dropFirst())
            let attempts = PythonTracker.execRetryDelays.count - remaining.count
            // No interpreter mapped well after the loader ran, and not a
            // python executable (whose loader may just be slow): not Python.
            let givenUp = notPython.contains(pid) && PythonTracker.execRetryDelays[attempts - 1] >= 0.25
                && !PythonTracker.isPythonExecutable(pid)
            let found = inspect(pid, force: true) != nil
            if found { adoptDescendants(of: pid) }
            if found || remaining.isEmpty || givenUp {
                pendingChecks.removeValue(forKey: pid)
            } else {
                pendingChecks[pid] = remaining
            }
        }
    }

    /// The symbolizer for a sample's process; a forked child that the BPF
    /// side already walks is detected here on its first sample.
    func symbolizer(for pid: Int32, sampleHasPython: Bool) -> PythonSymbolizer? {
        if let entry = entries[pid] { return entry.symbolizer }
        if let entry = retired[pid] { return entry.symbolizer }
        if sampleHasPython { return inspect(pid, force: true)?.symbolizer }
        return refused[pid]
    }

    /// Children forked before their parent was found to be Python (workers
    /// started at import time) share its layout but were never looked at:
    /// the kernel's fork hook copies only a layout the parent already had.
    func adoptDescendants(of pid: Int32) {
        for child in ProcessAncestry.descendants(of: [pid])
        where entries[child] == nil && !excluded.contains(child) && wants(child) {
            inspect(child, force: true)
        }
    }

    /// Once per interpreter file: later processes starting it get their
    /// layout from the kernel at once, instead of at the next retry.
    private func watchStarts(of process: PythonProcess, _ layout: pyro_python_layout) {
        guard let probe = process.startProbe, probedFiles.insert(probe.fileKey).inserted else { return }
        var template = pyro_python_template()
        template.layout = layout
        template.layout.interpreter_head_address &-= probe.bias
        if template.layout.code_type_address != 0 { template.layout.code_type_address &-= probe.bias }
        template.probe_address = probe.address
        do {
            try maps.attachPythonStartProbe(path: probe.path, function: probe.function, address: probe.address, template: template)
        } catch {
            startProbeFailures.append("\(error)")
        }
        // Processes that started this interpreter before the probe (a
        // batch started at once) are likely waiting for a retry: look now,
        // the file's symbols being known.
        for pid in pendingChecks.keys where pid != process.pid && inspect(pid, force: true) != nil {
            pendingChecks.removeValue(forKey: pid)
            adoptDescendants(of: pid)
        }
    }

    static func isPythonExecutable(_ pid: Int32) -> Bool {
        guard let exe = try? ProcessDirectory(pid: pid).executablePath() else { return false }
        return exe.split(separator: "/").last?.hasPrefix("python") ?? false
    }

    var symbolizers: [PythonSymbolizer] {
        Array(entries.values.map(\.symbolizer)) + retired.states.map(\.symbolizer)
    }

    @discardableResult
    private func inspect(_ pid: Int32, force: Bool = false) -> Entry? {
        if let entry = entries[pid] { return entry }
        if !force && notPython.contains(pid) { return nil }
        let detected = detector.detect(pid: pid)
        guard let process = detected else {
            notPython.insert(pid)
            return nil
        }
        guard process.isSupported, let layout = process.layout, let family = process.family else {
            // A process that exited while it was inspected could not be
            // read for that reason alone: it is not unsupported.
            guard ProcessStatus(pid: pid).map({ !$0.isZombie && !$0.isExiting }) ?? false else { return nil }
            // Still profiled, with native and kernel frames and the reason.
            let first = unsupported.updateValue(process, forKey: pid) == nil
            if first || refused[pid]?.process.refusal != process.refusal {
                refused[pid] = PythonSymbolizer(process: process, memory: nil)
                if targetsPython { try? maps.addTarget(pid: pid) }
                onDetected?(pid)
            }
            return nil
        }
        unsupported.removeValue(forKey: pid)
        refused.removeValue(forKey: pid)
        var walkerLayout = family.walkerLayout(process, layout)
        if !capturesCode { walkerLayout.code_capture_bytes = 0 }
        do {
            try maps.setPythonLayout(pid: pid, layout: walkerLayout)
            if targetsPython { try maps.addTarget(pid: pid) }
        } catch {
            return nil
        }
        let entry = Entry(process: process,
                          symbolizer: PythonSymbolizer(process: process, memory: try? ProcessMemory(pid: pid)))
        entries[pid] = entry
        if let captures = pendingCaptures.removeValue(forKey: pid) {
            pendingCaptureCount -= captures.count
            for capture in captures { entry.symbolizer.add(capture) }
        }
        watchStarts(of: process, walkerLayout)
        onDetected?(pid)
        return entry
    }
}
