/// The fields of /proc/PID/stat that say what a process is: its state,
/// its parent and whether it is a kernel thread.
public struct ProcessStatus: Equatable, Sendable {
    public var pid: Int32
    /// R, S, D, Z (zombie), T, t, X, I...
    public var state: Character
    public var parent: Int32
    /// The kernel's task flags (field 9).
    public var flags: UInt64

    /// PF_KTHREAD in include/linux/sched.h.
    static let kernelThreadFlag: UInt64 = 0x0020_0000
    static let exitingFlag: UInt64 = 0x0000_0004

    public var isZombie: Bool { state == "Z" || state == "X" }
    /// PF_EXITING: the process is in exit(), its memory may already be
    /// gone, though it is not a zombie yet.
    public var isExiting: Bool { flags & ProcessStatus.exitingFlag != 0 }
    public var isKernelThread: Bool { flags & ProcessStatus.kernelThreadFlag != 0 }

    /// Why `-p` cannot profile this process, nil when it can: a kernel
    /// thread has no user stack or Python, and a zombie will never run
    /// again, so either would record nothing and say only that it did not
    /// run on a CPU.
    public var whyNotProfilable: String? {
        if isKernelThread { return "is a kernel thread; pyrograph profiles user processes" }
        if isZombie { return "has exited (a zombie waiting for its parent to reap it); there is nothing left to sample" }
        return nil
    }

    /// nil when the process is gone or the text is not a stat line.
    public init?(pid: Int32, procRoot: String = "/proc") {
        guard let text = try? FileReader.string("\(procRoot)/\(pid)/stat") else { return nil }
        self.init(pid: pid, statLine: text)
    }

    /// The comm in parentheses may hold spaces and parentheses, so the
    /// fields are counted from the last `)`.
    public init?(pid: Int32, statLine: String) {
        guard let close = statLine.lastIndex(of: ")") else { return nil }
        let fields = statLine[statLine.index(after: close)...].split(separator: " ")
        // state ppid pgrp session tty_nr tpgid flags: fields 3 to 9.
        guard fields.count >= 7, let state = fields[0].first, let parent = Int32(fields[1]),
              let flags = UInt64(fields[6]) else { return nil }
        self.pid = pid
        self.state = state
        self.parent = parent
        self.flags = flags
    }

    /// Every process /proc lists now.
    public static func all(procRoot: String = "/proc") -> [ProcessStatus] {
        guard let pids = try? ProcessDirectory.allPIDs(procRoot: procRoot) else { return [] }
        return pids.compactMap { ProcessStatus(pid: $0, procRoot: procRoot) }
    }

    /// Every live (not zombie) process below `root`, parents before their
    /// children.
    public static func descendants(of root: Int32, procRoot: String = "/proc") -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for status in all(procRoot: procRoot) where !status.isZombie {
            children[status.parent, default: []].append(status.pid)
        }
        var result: [Int32] = []
        var queue = children[root] ?? []
        while !queue.isEmpty {
            let next = queue.removeFirst()
            result.append(next)
            queue += children[next] ?? []
        }
        return result
    }
}
