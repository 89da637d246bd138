import ProcessInspection
import Symbolization

/// What of a thread's native and kernel stacks can be had: from /proc
/// without stopping it, or from its registers when `--lock` stopped it.
public final class NativeStackReader {
    /// Frames followed along the frame-pointer chain at most.
    static let frameLimit = 128

    private let directory: ProcessDirectory
    private let memory: MemoryReader
    private let symbolizer: ProcessSymbolizer

    public init(pid: Int32, memory: MemoryReader, modules: ModuleCache) {
        directory = ProcessDirectory(pid: pid)
        self.memory = memory
        symbolizer = ProcessSymbolizer(pid: pid, modules: modules)
    }

    /// `/proc/PID/task/TID/stack` (root only), innermost first, each line's
    /// `[<0>] ` prefix dropped; nil if unreadable.
    public func kernelStack(tid: Int32) -> [String]? {
        guard let text = try? FileReader.string("\(directory.path)/task/\(tid)/stack") else { return nil }
        return text.split(separator: "\n").map { line in
            guard let close = line.firstIndex(of: "]") else { return String(line) }
            return String(line[line.index(after: close)...]).trimmingLeadingSpaces()
        }
    }

    /// A running thread's native stack without stopping it: its user pc
    /// while it sits in a system call (`/proc/PID/task/TID/syscall`).
    public func nativeStackWithoutStopping(tid: Int32) -> NativeStack {
        guard let text = try? FileReader.string("\(directory.path)/task/\(tid)/syscall") else {
            return NativeStack(source: .unavailable, frames: [])
        }
        // "NR ARG1..ARG6 SP PC" in a system call, "-1 SP PC" blocked
        // outside one, "running" otherwise.
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 3, fields[0] != "running", fields[0] != "-1",
              let pc = UInt64(fields[fields.count - 1].dropFirst(2), radix: 16) else {
            return NativeStack(source: .unavailable, frames: [])
        }
        return NativeStack(source: .blockedSystemCall, frames: [frame(pc, isReturnAddress: false)])
    }

    /// A stopped thread's native stack: its pc, then the return addresses
    /// along the frame-pointer chain while it stays on the stack and grows
    /// upwards.
    public func nativeStack(pc: UInt64, sp: UInt64, fp: UInt64) -> NativeStack {
        var frames = [frame(pc, isReturnAddress: false)]
        var framePointer = fp
        var lowest = sp
        while frames.count < Self.frameLimit, framePointer >= lowest, framePointer & 7 == 0,
              let next = memory.load(UInt64.self, at: framePointer),
              let returnAddress = memory.load(UInt64.self, at: framePointer &+ 8), returnAddress != 0 {
            frames.append(frame(returnAddress, isReturnAddress: true))
            lowest = framePointer &+ 16
            guard next > framePointer else { break }
            framePointer = next
        }
        return NativeStack(source: .registers, frames: frames)
    }

    private func frame(_ address: UInt64, isReturnAddress: Bool) -> NativeFrame {
        let named = symbolizer.symbolize(address, isReturnAddress: isReturnAddress)
        return NativeFrame(address: address, symbol: named.symbol, module: named.isInFile ? named.module : nil)
    }
}

private extension String {
    func trimmingLeadingSpaces() -> String { String(drop(while: { $0 == " " })) }
}
