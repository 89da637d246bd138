import CPyrograph
import ProcessInspection
import PythonRuntime
import Symbolization

/// Reads every thread of one Python process at this instant: the Python
/// stack of each thread state (idle threads included), its OS and Python
/// names, and on request what can be had of its native and kernel stacks.
/// Nothing is stopped unless `lock` is set.
public final class ProcessDumper {
    public struct Options: Sendable {
        /// Kernel stacks and native frames.
        public var native = false
        /// Stop the process with ptrace while reading it.
        public var lock = false
        /// Walks of a running thread's stack before it is called
        /// inconsistent.
        public var attempts = 5

        public init(native: Bool = false, lock: Bool = false) {
            self.native = native
            self.lock = lock
        }
    }

    private let options: Options
    private let detector: PythonProcessDetector
    private let modules = ModuleCache()
    /// Opens a process's memory; tests pass a reader that misbehaves.
    private let openMemory: (Int32) throws -> MemoryReader

    public init(options: Options, detector: PythonProcessDetector = PythonProcessDetector(),
                openMemory: @escaping (Int32) throws -> MemoryReader = { try ProcessMemory(pid: $0) }) {
        self.options = options
        self.detector = detector
        self.openMemory = openMemory
    }

    /// The process, found by the detector, and checked to be one `dump` can read.
    public func pythonProcess(pid: Int32) throws -> PythonProcess {
        let directory = ProcessDirectory(pid: pid)
        guard directory.exists, ProcessStatus(pid: pid)?.isZombie != true else { throw DumpError.noSuchProcess(pid: pid) }
        guard let process = detector.detect(pid: pid) else {
            throw Self.stillAlive(pid) ? DumpError.notPython(pid: pid) : DumpError.noSuchProcess(pid: pid)
        }
        guard process.isSupported else {
            throw DumpError.unsupported(pid: pid, version: process.version?.description,
                                        reason: process.unsupportedReason ?? "no layout")
        }
        return process
    }

    public func dump(pid: Int32) throws -> ProcessSnapshot {
        try dump(try pythonProcess(pid: pid))
    }

    public func dump(_ process: PythonProcess) throws -> ProcessSnapshot {
        let pid = process.pid
        do {
            let snapshot = try read(process)
            // Reads of a process that has gone fail or return nothing:
            // whatever was read, the process did not live through it.
            guard Self.stillAlive(pid) else { throw DumpError.exitedWhileDumping(pid: pid) }
            return snapshot
        } catch let error as DumpError {
            if case .exitedWhileDumping = error { throw error }
            throw Self.stillAlive(pid) ? error : DumpError.exitedWhileDumping(pid: pid)
        }
    }

    private func read(_ process: PythonProcess) throws -> ProcessSnapshot {
        let pid = process.pid
        guard let layout = process.layout else {
            throw DumpError.unsupported(pid: pid, version: process.version?.description, reason: "no layout")
        }
        let memory: MemoryReader
        do {
            memory = try openMemory(pid)
        } catch {
            throw DumpError.memoryUnreadable(pid: pid, reason: "\(error)")
        }
        let directory = ProcessDirectory(pid: pid)
        let native = options.native ? NativeStackReader(pid: pid, memory: memory, modules: modules) : nil
        // Before any stop: a stopped thread's kernel stack is ptrace's own.
        var kernelStacks: [Int32: [String]] = [:]
        if let native {
            for tid in (try? directory.threadIDs()) ?? [] { kernelStacks[tid] = native.kernelStack(tid: tid) }
        }
        let freezer = options.lock ? try ProcessFreezer(pid: pid) : nil
        defer { freezer?.release() }

        let states = try threadStates(process, layout: layout, memory: memory)
        let tids = (try? directory.threadIDs()) ?? []
        let tidOfPthread = PthreadTIDs.map(pthreads: states.map(\.threadID), tids: Set(tids), memory: memory)
        let pythonNames = PythonThreadNames(process: process, memory: memory).namesByIdent(threadStates: states)
        let symbolizer = PythonSymbolizer(process: process, memory: memory)
        let walker = PythonStackWalker(process: process, layout: layout, memory: memory)
        // A snapshot like the stacks: nil (not said) where the version
        // keeps no GIL pyrograph reads (free-threaded builds).
        let gil = try? GILState.read(process, memory: memory).get()

        var threads: [ThreadSnapshot] = []
        for state in states {
            let tid = tidOfPthread[state.threadID]
            var thread = ThreadSnapshot(tid: tid, osName: tid.flatMap { try? directory.threadComm(tid: $0) },
                                        pythonName: pythonNames[state.threadID], pythonThreadID: state.threadID,
                                        holdsGIL: gil.map { $0.holderThreadState == state.address },
                                        stack: PythonStackRead(.unreadable, reads: 0))
            (thread.stack, thread.frames) = stack(of: state, walker: walker, symbolizer: symbolizer,
                                                  locked: freezer != nil)
            threads.append(thread)
        }
        let pythonTIDs = Set(threads.compactMap(\.tid))
        for tid in tids.sorted() where !pythonTIDs.contains(tid) {
            threads.append(ThreadSnapshot(tid: tid, osName: try? directory.threadComm(tid: tid), pythonThreadID: nil,
                                          stack: PythonStackRead(.noPythonThread, reads: 0)))
        }
        if let native {
            for index in threads.indices {
                guard let tid = threads[index].tid else { continue }
                threads[index].kernelStack = kernelStacks[tid] ?? native.kernelStack(tid: tid)
                if let registers = freezer?.registers(tid: tid) {
                    threads[index].native = native.nativeStack(pc: registers.pc, sp: registers.sp, fp: registers.fp)
                } else {
                    threads[index].native = native.nativeStackWithoutStopping(tid: tid)
                }
            }
        }
        return ProcessSnapshot(pid: pid, command: try? directory.commandLine(),
                               pythonVersion: process.version?.description, locked: freezer != nil,
                               threads: threads)
    }

    /// The thread list, read until two reads agree: a thread starting or
    /// ending while the list is read could cut it short.
    private func threadStates(_ process: PythonProcess, layout: PythonLayout,
                              memory: MemoryReader) throws -> [PythonThreadList.Entry] {
        var previous: [PythonThreadList.Entry]?
        for _ in 0..<options.attempts {
            let read = PythonThreadList.read(memory: memory, layout: layout,
                                             interpreterHeadAddress: process.interpreterHeadAddress)
            if case .success(let entries) = read {
                if options.lock || entries == previous { return entries }
                previous = entries
            }
        }
        if let previous { return previous }
        throw DumpError.threadListUnreadable(pid: process.pid)
    }

    private func stack(of state: PythonThreadList.Entry, walker: PythonStackWalker, symbolizer: PythonSymbolizer,
                       locked: Bool) -> (PythonStackRead, [DumpFrame]) {
        func name(_ frame: PythonStackWalker.RawFrame) -> PythonSymbolizer.Frame? {
            symbolizer.frame(code: frame.code, instruction: frame.instruction, stamp: frame.stamp)
        }
        let result = walker.consistentWalk(threadState: state.address, attempts: locked ? 1 : options.attempts) { walk in
            walk.frames.allSatisfy { $0.code == 0 || name($0) != nil }
        }
        let frames = result.walk.frames.filter { $0.code != 0 }.map { raw -> DumpFrame in
            let named = name(raw)
            return DumpFrame(function: named?.name, file: named?.filename, line: named?.line)
        }
        let outcome: PythonStackRead.Outcome
        switch result.walk.status {
        case PYRO_PYTHON_OK.rawValue:
            outcome = locked ? .locked : (result.consistent ? .consistent : .inconsistent)
        case PYRO_PYTHON_TRUNCATED.rawValue:
            outcome = .truncated
        default:
            outcome = .unreadable
        }
        return (PythonStackRead(outcome, reads: result.reads), frames)
    }

    static func stillAlive(_ pid: Int32) -> Bool {
        guard let status = ProcessStatus(pid: pid) else { return false }
        return !status.isZombie
    }
}
