import CPyrograph
import Glibc

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
}
