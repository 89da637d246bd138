import Aggregation
import ProcessInspection

/// Threads of the profiled processes that spend the whole recording off CPU
/// send nothing: the scheduler hook sees a thread only when it switches, and
/// such a thread never does. Their threads are listed as recording starts;
/// at the stop, those still alive that sent no record at all slept through
/// it, and each carries the whole recording's wall time. Their stack is
/// what the host can read of a sleeping thread: its kernel stack
/// (/proc/PID/task/TID/stack, whose top says what it waits in); its user
/// and Python stacks need it to run, which it never did.
struct SilentThreads {
    private var atStart: [(pid: Int32, tid: Int32)] = []
    /// Listed threads not heard from yet: only these are remembered, so a
    /// recording of days does not keep every thread it ever saw.
    private var unheard = Set<Int32>()
    let procRoot: String

    init(procRoot: String = "/proc") {
        self.procRoot = procRoot
    }

    /// Lists the threads of `pids` now.
    mutating func note(_ pids: [Int32]) {
        for pid in Set(pids).sorted() {
            let directory = ProcessDirectory(pid: pid, procRoot: procRoot)
            for tid in (try? directory.threadIDs()) ?? [] {
                atStart.append((pid, tid))
                unheard.insert(tid)
            }
        }
    }

    /// The thread sent a record.
    mutating func heard(_ tid: Int32) {
        if !unheard.isEmpty { unheard.remove(tid) }
    }

    /// The listed threads that are still alive and never sent a record.
    func silent() -> [(pid: Int32, tid: Int32)] {
        atStart.filter { unheard.contains($0.tid) && ProcessDirectory(pid: $0.pid, procRoot: procRoot).exists
            && (try? ProcessDirectory(pid: $0.pid, procRoot: procRoot).threadComm(tid: $0.tid)) != nil }
    }

    /// The thread's frames, root first: its kernel stack as /proc names it
    /// (`[<0>] do_sys_poll+0x1d2/0x4a0`), then why it is off CPU.
    func frames(pid: Int32, tid: Int32) -> [Frame] {
        let text = (try? FileReader.string("\(procRoot)/\(pid)/task/\(tid)/stack")) ?? ""
        let kernel: [Frame] = text.split(separator: "\n").compactMap { line in
            guard let name = line.split(separator: " ").last?.split(separator: "+").first, !name.isEmpty else { return nil }
            return .kernel(symbol: String(name))
        }
        let status = (try? FileReader.string("\(procRoot)/\(pid)/task/\(tid)/status")) ?? ""
        let uninterruptible = status.split(separator: "\n").contains { $0.hasPrefix("State:") && $0.contains("D (") }
        return kernel.reversed() + [.annotation(.offCPU(uninterruptible ? .blockedOnIO : .sleeping))]
    }

    func comms(pid: Int32, tid: Int32) -> (process: String, thread: String) {
        let directory = ProcessDirectory(pid: pid, procRoot: procRoot)
        return ((try? directory.comm()) ?? "", (try? directory.threadComm(tid: tid)) ?? "")
    }
}
