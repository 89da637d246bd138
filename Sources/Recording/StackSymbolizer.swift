import Aggregation
import CPyrograph
import Dispatch
import PythonRuntime
import Symbolization

/// Names the frames of raw samples: kernel addresses through kallsyms, user
/// addresses through each process's own symbolizer. Per-process state is
/// created at a process's first sample, while it is still alive.
public final class StackSymbolizer {
    private let modules = ModuleCache()
    private var processes: [Int32: ProcessSymbolizer] = [:]
    private var kernel: KernelSymbols?
    private var kernelLoadAttempted = false
    private var kernelPreload: (done: DispatchGroup, result: KernelSymbolsLoad)?
    public private(set) var kernelSymbolError: String?
    let procRoot: String

    public init(procRoot: String = "/proc") {
        self.procRoot = procRoot
    }

    public var processesSeen: Int { processes.count }

    /// Starts reading kallsyms on another thread. Read at the first kernel
    /// frame instead, it held up the loader for about 0.1 s just as a
    /// command's interpreter started: workers it forked meanwhile lost
    /// their first tenth of a second of Python frames.
    ///
    /// A thread of its own, which inherits pyrograph's priority: a
    /// libdispatch worker starts at nice 0, and on a saturated host waited
    /// seconds for its first slice while the loader waited for it.
    public func preloadKernelSymbols() {
        guard !kernelLoadAttempted, kernelPreload == nil else { return }
        let done = DispatchGroup(), result = KernelSymbolsLoad()
        done.enter()
        let started = DetachedThread.start {
            result.outcome = Result { try KernelSymbols() }
            done.leave()
        }
        if started { kernelPreload = (done, result) }
    }

    /// Reads the process's memory map now, before it can exit.
    public func noteProcess(_ pid: Int32) {
        if processes[pid] == nil {
            processes[pid] = ProcessSymbolizer(pid: pid, modules: modules, procRoot: procRoot)
        }
    }

    /// The process mapped new code: the kernel said so, or a sample's pc
    /// left its known mappings.
    public func mappingsChanged(_ pid: Int32) {
        processes[pid]?.mappingsChanged()
    }

    /// Retires the process's state; a new process reusing the pid starts fresh.
    public func processExited(_ pid: Int32, now: Double) {
        processes[pid]?.markExited()
        if let symbolizer = processes.removeValue(forKey: pid) { retired.retire(pid, symbolizer, now: now) }
    }

    /// Forgets exited processes once no sample of theirs can still arrive.
    public func evictRetired(now: Double) {
        retired.evict(now: now)
    }

    /// Exited processes whose samples may still be in flight in the ring
    /// buffer (another CPU's record can arrive after the exit record).
    private var retired = RetiredProcesses<ProcessSymbolizer>()

    /// Frames root first, without the process and thread frames: the user
    /// stack with Python frames in place of the eval-loop frames that ran
    /// them, then the kernel stack.
    public func frames(for sample: RawSample, python: PythonSymbolizer? = nil) -> [Frame] {
        let pythonGroups = python.map { pythonInvocations(sample, $0) } ?? []
        let family = python?.process.family
        let process = python?.process
        var user: [Frame] = [] // innermost first
        var nextGroup = 0
        var native = nativeAddresses(sample)
        let nativeCutAtLeaf = sample.nativeStatus == PYRO_NATIVE_FRAME_POINTERS && !pythonGroups.isEmpty
        if nativeCutAtLeaf {
            // A frame-pointer walk through an interpreter built without them:
            // only the leaf is sure, so it goes on top of the Python stack,
            // and a marker under it says the native frames are missing.
            native = native.prefix(1).filter { !StackSymbolizer.isEvalLoop($0, family, process) }
        }
        for resolved in native {
            if StackSymbolizer.isEvalLoop(resolved, family, process), nextGroup < pythonGroups.count {
                user.append(contentsOf: pythonGroups[nextGroup])
                nextGroup += 1
                continue
            }
            user.append(StackSymbolizer.frame(for: resolved))
        }
        if let reason = StackSymbolizer.unwindStopReason(sample.nativeStatus) {
            user.append(.annotation(.nativeUnwindStopped(reason)))
        }
        // Python frames the native walk did not reach stay, in order.
        for group in pythonGroups[nextGroup...] { user.append(contentsOf: group) }
        if nativeCutAtLeaf { user.append(.annotation(.nativeUnwindStopped(.noUnwindTable))) }
        if sample.userStackError != 0 {
            user.append(.annotation(.userStackUnavailable))
        }
        // An interpreter pyrograph cannot walk says so under the process.
        if let refusal = python?.process.refusal {
            user.append(.annotation(.pythonStacksUnavailable(refusal.frameText(python?.process.version))))
        }
        if StackSymbolizer.waitsForGIL(sample, native) { StackSymbolizer.markWaitingForGIL(&user) }
        var frames: [Frame] = user.reversed()
        for (index, address) in sample.kernelStack.enumerated().reversed() {
            frames.append(.kernel(symbol: kernelName(address, isReturnAddress: index > 0)))
        }
        // An interval off CPU says what the thread waited in, innermost.
        if let state = sample.offCPUState {
            frames.append(.annotation(.offCPU(StackSymbolizer.wait(state))))
        }
        return frames
    }

    /// The interpreter's GIL switch: taking the GIL, and dropping it on
    /// another thread's request (after which the thread asks for it again).
    static let gilSwitchFunctions: Set<String> = ["take_gil", "drop_gil"]

    /// 2.7 has no take_gil: its GIL is a plain lock, which the eval loop
    /// and the thread-state functions take with PyThread_acquire_lock, and
    /// which the eval loop drops with PyThread_release_lock to let another
    /// thread run (then takes again at once). The same calls under anything
    /// else (threading.Lock, PyEval_SaveThread before a blocking call) are
    /// not the GIL switch. Callee: its callers that are.
    static let python2GILSwitch: [String: Set<String>] = [
        "PyThread_acquire_lock": ["PyEval_EvalFrameEx", "PyEval_RestoreThread", "PyEval_AcquireThread", "PyEval_AcquireLock"],
        "PyThread_release_lock": ["PyEval_EvalFrameEx"],
    ]

    /// Whether the native stack (innermost first) is inside the GIL switch.
    static func isInGILSwitch(_ native: [SymbolizedAddress]) -> Bool {
        for (index, address) in native.enumerated() {
            guard let symbol = address.symbol else { continue }
            if gilSwitchFunctions.contains(symbol) { return true }
            if let callers = python2GILSwitch[symbol] {
                return native[(index + 1)...].first { $0.symbol != nil }?.symbol.map(callers.contains) ?? false
            }
        }
        return false
    }

    /// Whether the thread waits for the GIL: the kernel saw it asleep on the
    /// GIL's futexes, or, without the GIL, it is inside the GIL switch (a
    /// waiter preempted between two sleeps in take_gil, a thread preempted
    /// while handing the GIL over), which only interpreters with symbols
    /// tell (pyenv's; Debian's are stripped and rely on the futex).
    static func waitsForGIL(_ sample: RawSample, _ native: [SymbolizedAddress]) -> Bool {
        switch sample.gil {
        case .waiting: return true
        case .released: return isInGILSwitch(native)
        case .held, nil: return false
        }
    }

    /// A thread waiting for the GIL gets its own frame right under its
    /// innermost Python frame, above the native frames of the wait, so the
    /// waiting of each Python caller is one bar. `user` is innermost first.
    static func markWaitingForGIL(_ user: inout [Frame]) {
        let innermostPython = user.firstIndex { $0.kind == .python }
        user.insert(.annotation(.waitingForGIL), at: innermostPython ?? 0)
    }

    static func wait(_ state: OffCPUState) -> Annotation.OffCPUWait {
        switch state {
        case .sleeping: return .sleeping
        case .uninterruptible: return .blockedOnIO
        case .preempted: return .preempted
        }
    }

    /// The user stack's addresses, symbolized, innermost first. A
    /// frame-pointer walk (no CFI tables) stops where it leaves mapped code.
    /// A CFI walk stops before a return address no code is mapped at: a
    /// step through a function without CFI (OpenBLAS's assembly kernels)
    /// can read a saved register, even a double, as one. The walk's status
    /// (pc outside known mappings) says where it stopped.
    private func nativeAddresses(_ sample: RawSample) -> [SymbolizedAddress] {
        guard !sample.userStack.isEmpty else { return [] }
        let process = symbolizer(for: sample.pid)
        var result: [SymbolizedAddress] = []
        let walkedWithCFI = sample.nativeStatus != PYRO_NATIVE_FRAME_POINTERS
        for (index, address) in sample.userStack.enumerated() {
            let resolved = process.symbolize(address, isReturnAddress: index > 0)
            if index > 0 && !(walkedWithCFI ? resolved.isMapped : resolved.isInFile) { break }
            result.append(resolved)
        }
        return result
    }

    /// A native function that runs Python frames of the process's family.
    static func isEvalLoop(_ address: SymbolizedAddress, _ family: (any PythonRuntimeFamily)?,
                           _ process: PythonProcess? = nil) -> Bool {
        guard let family else { return false }
        guard let symbol = address.symbol else {
            // A stripped interpreter's unnamed part of the eval loop.
            return process?.isUnnamedEvalLoop(module: address.module, fileAddress: address.moduleOffset) ?? false
        }
        return family.isEvalLoop(symbol)
    }

    static func unwindStopReason(_ status: pyro_native_status) -> Annotation.NativeStop? {
        switch status {
        case PYRO_NATIVE_NO_MAPPING: return .pcOutsideKnownMappings
        case PYRO_NATIVE_NO_CFI: return .noCFIAndNoFramePointer
        case PYRO_NATIVE_READ_FAULT: return .stackUnreadable
        case PYRO_NATIVE_DEPTH: return .deeperThan(frames: Int(PYRO_MAX_USER_FRAMES))
        case PYRO_NATIVE_UNSUPPORTED_RULE: return .unsupportedCFIRule
        default: return nil
        }
    }

    static func chainBreak(_ status: pyro_python_status) -> Annotation.PythonChainBreak? {
        switch status {
        case PYRO_PYTHON_CHAIN_CYCLE: return .cycle
        case PYRO_PYTHON_CHAIN_NOT_CODE: return .notACodeObject
        case PYRO_PYTHON_CHAIN_MISALIGNED: return .misalignedFrame
        default: return nil
        }
    }

    static func frame(for address: SymbolizedAddress) -> Frame {
        if let symbol = address.symbol { return .native(symbol: symbol, module: address.module, buildID: address.buildID) }
        return .unsymbolized(module: address.module, offset: address.moduleOffset, buildID: address.buildID)
    }

    private func symbolizer(for pid: Int32) -> ProcessSymbolizer {
        if let live = processes[pid] { return live }
        if let retired = retired[pid] { return retired }
        noteProcess(pid)
        return processes[pid]!
    }

    private func kernelName(_ address: UInt64, isReturnAddress: Bool) -> String {
        if !kernelLoadAttempted {
            kernelLoadAttempted = true
            let outcome: Result<KernelSymbols, Error>
            if let (done, result) = kernelPreload {
                done.wait()
                outcome = result.outcome ?? Result { try KernelSymbols() }
                kernelPreload = nil
            } else {
                outcome = Result { try KernelSymbols() }
            }
            switch outcome {
            case let .success(symbols): kernel = symbols
            case let .failure(error): kernelSymbolError = "\(error)"
            }
        }
        let lookup = isReturnAddress ? address - 1 : address
        if let name = kernel?.name(for: lookup) { return name }
        return "kernel+0x\(String(address, radix: 16))"
    }
}

extension StackSymbolizer {
    /// The sample's Python frames split per eval-loop invocation, innermost
    /// invocation first, each innermost frame first, by the family's rule:
    /// every frame its own invocation, or up to the walker's markers.
    func pythonInvocations(_ sample: RawSample, _ python: PythonSymbolizer) -> [[Frame]] {
        guard !sample.pythonFrames.isEmpty else { return [] }
        let marked = python.process.family?.invocationBoundary == .walkerMarkers
        var groups: [[Frame]] = []
        var current: [Frame] = []
        for record in sample.pythonFrames {
            if record.isEntryMarker {
                if !current.isEmpty { groups.append(current) }
                current = []
                continue
            }
            if let frame = python.frame(code: record.code, instruction: record.instruction, stamp: record.stamp) {
                current.append(.python(function: frame.name, file: frame.filename, line: frame.line))
            } else {
                current.append(.annotation(.pythonFrameUnreadable))
            }
            if !marked {
                groups.append(current)
                current = []
            }
        }
        if sample.pythonStatus == PYRO_PYTHON_TRUNCATED {
            current.append(.annotation(.pythonStackTruncated(frames: Int(PYRO_MAX_PYTHON_FRAMES))))
        } else if sample.pythonStatus == PYRO_PYTHON_READ_FAULT {
            current.append(.annotation(.pythonStackReadFault))
        } else if let reason = StackSymbolizer.chainBreak(sample.pythonStatus) {
            current.append(.annotation(.pythonChainBroken(reason)))
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }
}

/// kallsyms read on another thread; `outcome` is set before the reader
/// leaves its DispatchGroup, and read only after waiting on it.
private final class KernelSymbolsLoad: @unchecked Sendable {
    var outcome: Result<KernelSymbols, Error>?
}
