import Aggregation
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

    /// Frames root first, without the process and thread frames.
    public func frames(for sample: RawSample) -> [Frame] {
        var frames: [Frame] = []
        frames.reserveCapacity(sample.userStack.count + sample.kernelStack.count)
        if !sample.userStack.isEmpty {
            let process = symbolizer(for: sample.pid)
            for (index, address) in sample.userStack.enumerated().reversed() {
                let resolved = process.symbolize(address, isReturnAddress: index > 0)
                frames.append(StackSymbolizer.frame(for: resolved))
            }
        }
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
