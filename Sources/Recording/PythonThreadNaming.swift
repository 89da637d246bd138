import Glibc
import ProcessInspection
import PythonRuntime

/// Thread frames named as the program named its threads (`threading`'s
/// `Thread.name`, read by `PythonThreadNames`), else nil and the OS name
/// stays. Asked once per new stack, not per sample; a process's names are
/// read again when a thread is first seen without one (it may have started
/// since), and then at most every 50 ms while its new stacks come unnamed.
final class PythonThreadNaming {
    private struct Entry {
        var symbolizer: ObjectIdentifier
        var reader: PythonThreadNames
        var names: [Int32: String]
        var readAt: Double
        /// Threads a read was made for.
        var asked: Set<Int32>
    }

    private var entries: [Int32: Entry] = [:]
    /// Processes (and threads of one process) remembered at most; past it
    /// the memory starts afresh. Exited processes go at once (`forget`).
    static let processLimit = 4096
    static let rereadSeconds = 0.05

    func name(pid: Int32, tid: Int32, python: PythonSymbolizer?) -> String? {
        guard let python, python.process.isSupported else { return nil }
        let identity = ObjectIdentifier(python)
        let now = Self.seconds()
        if var entry = entries[pid], entry.symbolizer == identity {
            if let name = entry.names[tid] { return name }
            if entry.asked.count >= Self.processLimit { entry.asked.removeAll() }
            guard entry.asked.insert(tid).inserted || now - entry.readAt >= Self.rereadSeconds else { return nil }
            entry.names = read(entry.reader, pid: pid)
            entry.readAt = now
            entries[pid] = entry
            return entry.names[tid]
        }
        guard let memory = try? ProcessMemory(pid: pid) else { return nil }
        if entries.count >= Self.processLimit { entries.removeAll() }
        let reader = PythonThreadNames(process: python.process, memory: memory)
        let entry = Entry(symbolizer: identity, reader: reader, names: read(reader, pid: pid), readAt: now, asked: [tid])
        entries[pid] = entry
        return entry.names[tid]
    }

    /// The process exited: its names and its memory's descriptor go, or
    /// a host starting 25 Pythons a second holds thousands of both.
    func forget(_ pid: Int32) {
        entries.removeValue(forKey: pid)
    }

    private func read(_ reader: PythonThreadNames, pid: Int32) -> [Int32: String] {
        reader.namesByTID(Set((try? ProcessDirectory(pid: pid).threadIDs()) ?? []))
    }

    private static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
