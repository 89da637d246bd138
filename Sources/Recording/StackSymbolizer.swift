import Aggregation
import CPyrograph
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
    public private(set) var kernelSymbolError: String?
    let procRoot: String

    public init(procRoot: String = "/proc") {
        self.procRoot = procRoot
    }

    public var processesSeen: Int { processes.count }

    /// Reads the process's memory map now, before it can exit.
    public func noteProcess(_ pid: Int32) {
        if processes[pid] == nil {
            processes[pid] = ProcessSymbolizer(pid: pid, modules: modules, procRoot: procRoot)
        }
    }

    /// Retires the process's state; a new process reusing the pid starts fresh.
    public func processExited(_ pid: Int32) {
        processes[pid]?.markExited()
        retired[pid] = processes.removeValue(forKey: pid)
    }

    /// Exited processes whose samples may still be in flight in the ring
    /// buffer (another CPU's record can arrive after the exit record).
    private var retired: [Int32: ProcessSymbolizer] = [:]

    /// Native functions that run Python frames: where a Python stack joins
    /// the native one.
    static let evalLoopSymbols: Set<String> = [
        "_PyEval_EvalFrameDefault", "_PyEval_EvalFrameDefault.cold", "PyEval_EvalFrameEx",
    ]

    /// Frames root first, without the process and thread frames.
    ///
    /// For a Python thread: its Python frames, then the native frames
    /// above the innermost eval loop, then the kernel's. Native frames below
    /// the eval loop are left out until native unwinding without frame
    /// pointers exists: these interpreters are built without them, so a
    /// frame-pointer walk past the leaf is not trustworthy.
    public func frames(for sample: RawSample, python: PythonSymbolizer? = nil) -> [Frame] {
        var frames: [Frame] = []
        frames.reserveCapacity(sample.userStack.count + sample.kernelStack.count + sample.pythonFrames.count)
        var native: [Frame] = []
        var reachedEvalLoop = false
        if !sample.userStack.isEmpty {
            let process = symbolizer(for: sample.pid)
            for (index, address) in sample.userStack.enumerated() {
                let resolved = process.symbolize(address, isReturnAddress: index > 0)
                if python != nil, !sample.pythonFrames.isEmpty,
                   let symbol = resolved.symbol, StackSymbolizer.evalLoopSymbols.contains(symbol) {
                    reachedEvalLoop = true
                    break
                }
                // A frame-pointer walk through code built without them
                // wanders off into data; stop at the first such address.
                if index > 0 && !resolved.isInFile { break }
                native.append(StackSymbolizer.frame(for: resolved))
            }
        }
        if let python, !sample.pythonFrames.isEmpty {
            frames.append(contentsOf: pythonFrames(sample, python))
            // Without the eval loop in the native walk, only the leaf is sure.
            if !reachedEvalLoop { native = Array(native.prefix(1)) }
        }
        frames.append(contentsOf: native.reversed())
        if sample.userStackError != 0 {
            frames.append(.annotation("user stack unavailable"))
        }
        for (index, address) in sample.kernelStack.enumerated().reversed() {
            frames.append(.kernel(symbol: kernelName(address, isReturnAddress: index > 0)))
        }
        return frames
    }

    static func frame(for address: SymbolizedAddress) -> Frame {
        if let symbol = address.symbol { return .native(symbol: symbol, module: address.module) }
        return .unsymbolized(module: address.module, offset: address.moduleOffset)
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
            do { kernel = try KernelSymbols() } catch { kernelSymbolError = "\(error)" }
        }
        let lookup = isReturnAddress ? address - 1 : address
        if let name = kernel?.name(for: lookup) { return name }
        return "kernel+0x\(String(address, radix: 16))"
    }
}

extension StackSymbolizer {
    /// Root first; unnamed frames stay as visible annotations.
    func pythonFrames(_ sample: RawSample, _ python: PythonSymbolizer) -> [Frame] {
        var frames: [Frame] = []
        if sample.pythonStatus == PYRO_PYTHON_TRUNCATED {
            frames.append(.annotation("python stack truncated at \(PYRO_MAX_PYTHON_FRAMES) frames"))
        } else if sample.pythonStatus == PYRO_PYTHON_READ_FAULT {
            frames.append(.annotation("python stack incomplete: read fault"))
        }
        for record in sample.pythonFrames.reversed() where !record.isEntryMarker {
            if let frame = python.frame(code: record.code, instruction: record.instruction, stamp: record.stamp) {
                frames.append(.python(qualname: frame.name, file: frame.filename, line: frame.line))
            } else {
                frames.append(.annotation("python frame unreadable"))
            }
        }
        return frames
    }
}
