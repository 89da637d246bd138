import CPtrace
import Glibc
import ProcessInspection

/// `--lock`: every thread of a process stopped with PTRACE_SEIZE and
/// PTRACE_INTERRUPT (no signal is sent, so the program cannot see it), read,
/// then let go. `release()` runs on every path out of a dump; should
/// pyrograph itself die (a signal, a crash), the kernel detaches its
/// tracees as it exits and they run on.
public final class ProcessFreezer {
    public let pid: Int32
    /// Stopped threads, with the signal each had pending.
    private var stopped: [Int32: Int32] = [:]
    private var seized: Set<Int32> = []

    /// Stops every thread, including ones created while stopping the
    /// others (listed again until no new thread appears).
    public init(pid: Int32) throws {
        self.pid = pid
        let directory = ProcessDirectory(pid: pid)
        do {
            for _ in 0..<100 {
                guard let tids = try? directory.threadIDs() else { throw DumpError.exitedWhileDumping(pid: pid) }
                let fresh = tids.filter { !seized.contains($0) }
                if fresh.isEmpty { return }
                for tid in fresh {
                    let seizedResult = pyro_ptrace_seize(tid)
                    if seizedResult == -ESRCH { continue }  // exited meanwhile
                    guard seizedResult == 0 else {
                        throw DumpError.lockFailed(pid: pid, reason: String(cString: strerror(-seizedResult)))
                    }
                    seized.insert(tid)
                    var signal: Int32 = 0
                    let result = pyro_ptrace_interrupt_and_wait(tid, &signal)
                    if result == 0 { stopped[tid] = signal }
                }
            }
            throw DumpError.lockFailed(pid: pid, reason: "its threads kept multiplying")
        } catch {
            release()
            throw error
        }
    }

    deinit { release() }

    public var stoppedThreads: Set<Int32> { Set(stopped.keys) }

    /// The user registers of a stopped thread.
    public func registers(tid: Int32) -> pyro_thread_registers? {
        guard stopped[tid] != nil else { return nil }
        var registers = pyro_thread_registers()
        return pyro_ptrace_registers(tid, &registers) == 0 ? registers : nil
    }

    /// Detaches every thread, handing back any signal held at the stop.
    public func release() {
        for tid in seized { _ = pyro_ptrace_detach(tid, stopped[tid] ?? 0) }
        seized.removeAll()
        stopped.removeAll()
    }
}
