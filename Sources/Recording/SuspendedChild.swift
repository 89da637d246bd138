import CPyrograph
import Glibc
import ProcessInspection

/// The program of `record -- COMMAND`: forked, held until the sampler
/// targets its pid, then released to exec.
final class SuspendedChild {
    let pid: Int32
    private var releaseFD: Int32
    private var execErrorFD: Int32
    private var exitStatus: Int32?
    let arguments: [String]

    /// `nice` is the priority the program runs at.
    init(arguments: [String], nice: Int32) throws {
        self.arguments = arguments
        // Workers the command forks outlive it if it dies first; as their
        // subreaper pyrograph can still find and stop them.
        _ = pyro_become_subreaper()
        var releaseFD: Int32 = -1, execErrorFD: Int32 = -1
        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let pid = pyro_spawn_suspended(&cArguments, nice, &releaseFD, &execErrorFD)
        guard pid > 0 else { throw RecordingError.commandFailed(command: arguments[0], errno: -pid) }
        self.pid = pid
        self.releaseFD = releaseFD
        self.execErrorFD = execErrorFD
    }

    func release() throws {
        let error = pyro_spawn_release(releaseFD, execErrorFD)
        releaseFD = -1
        execErrorFD = -1
        if error != 0 {
            _ = exitStatusIfExited(wait: true)
            throw RecordingError.commandFailed(command: arguments[0], errno: error)
        }
    }

    /// The exit status once the child has ended: its code, or 128 + signal.
    func exitStatusIfExited(wait: Bool = false) -> Int32? {
        reapExited()
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        guard wait, waitpid(pid, &status, 0) == pid else { return nil }
        record(status)
        return exitStatus
    }

    /// Collects every child that has exited: the command (keeping its
    /// status), adopted orphans and the release helpers (Sampler),
    /// so a long recording of a command whose helpers outlive their
    /// parents does not pile up zombies.
    private func reapExited() {
        var status: Int32 = 0
        while true {
            let result = waitpid(-1, &status, WNOHANG)
            if result <= 0 { break }
            if result == pid { record(status) }
        }
    }

    private func record(_ status: Int32) {
        let signal = status & 0x7f
        exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Ends the command and every process it started, like py-spy: sends
    /// `signal` to them when `forward` (a terminal's Ctrl-C already reached
    /// them), gives them `grace` seconds to exit (less if `impatient` turns
    /// true), then kills what is left. Returns the command's exit status.
    ///
    /// The grace is short because pyrograph must stop in under a second:
    /// enough for a Python to run its KeyboardInterrupt handlers, not for a
    /// server's graceful shutdown.
    @discardableResult
    func stop(signal: Int32, forward: Bool, grace: Double, impatient: () -> Bool) -> Int32? {
        let me = getpid()
        if forward {
            if exitStatusIfExited() == nil { kill(pid, signal) }
            for descendant in ProcessStatus.descendants(of: me) where descendant != pid {
                kill(descendant, signal)
            }
        }
        let deadline = MonotonicClock.now() + grace
        while MonotonicClock.now() < deadline && !impatient() {
            if exitStatusIfExited() != nil && ProcessStatus.descendants(of: me).isEmpty { return exitStatus }
            usleep(10_000)
        }
        for descendant in ProcessStatus.descendants(of: me) { kill(descendant, SIGKILL) }
        _ = exitStatusIfExited(wait: true)
        reapExited()
        return exitStatus
    }
}
