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

    init(arguments: [String]) throws {
        self.arguments = arguments
        // Workers the command forks outlive it if it dies first; as their
        // subreaper pyrograph can still find and stop them.
        _ = pyro_become_subreaper()
        var releaseFD: Int32 = -1, execErrorFD: Int32 = -1
        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let pid = pyro_spawn_suspended(&cArguments, &releaseFD, &execErrorFD)
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
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let result = waitpid(pid, &status, wait ? 0 : WNOHANG)
        guard result == pid else { return nil }
        let signal = status & 0x7f
        exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return exitStatus
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
            reapOrphans()
            if exitStatusIfExited() != nil && ProcessStatus.descendants(of: me).isEmpty { return exitStatus }
            usleep(10_000)
        }
        for descendant in ProcessStatus.descendants(of: me) { kill(descendant, SIGKILL) }
        _ = exitStatusIfExited(wait: true)
        reapOrphans()
        return exitStatus
    }

    /// Collects adopted workers that have exited, never the command itself
    /// (whose status exitStatusIfExited keeps).
    private func reapOrphans() {
        let me = getpid()
        for status in ProcessStatus.all() where status.parent == me && status.isZombie && status.pid != pid {
            var ignored: Int32 = 0
            _ = waitpid(status.pid, &ignored, WNOHANG)
        }
    }
}
