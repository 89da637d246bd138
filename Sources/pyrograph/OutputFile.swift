import Glibc
import Output
import ProcessInspection

/// The profile's destination, checked and opened before sampling starts so
/// that a bad path fails at once instead of after a long recording.
///
/// A regular file is never written in place: the profile goes to a new
/// file created exclusively next to the target, which `commit` syncs and
/// renames over it, so a full disk or a kill leaves the old profile whole.
/// Devices, FIFOs, pipes and `-` (stdout) are streams: written as they
/// are, never truncated or renamed.
final class OutputFile: ByteStream {
    let path: String
    private let destination: OutputDestination
    private let fd: Int32
    /// Where a regular file's bytes go until commit; nil for a stream.
    private var temporaryName: String?
    private var committed = false

    init(path: String) throws {
        self.path = path
        destination = try OutputDestination.resolve(path)
        switch destination {
        case let .descriptor(number):
            fd = fcntl(number, F_DUPFD_CLOEXEC, 3)
            guard fd >= 0 else { throw SystemError("cannot write the output file \(path): descriptor \(number)") }
            try OutputFile.requireWritable(fd, path: path)
        case let .stream(target, isFIFO):
            fd = try OutputFile.openStream(target, isFIFO: isFIFO)
        case let .replace(target):
            (fd, temporaryName) = try OutputFile.createTemporary(in: target)
        }
    }

    deinit {
        close(fd)
        if !committed, let temporaryName, case let .replace(target) = destination {
            unlinkat(target.directoryFD, temporaryName, 0)
        }
    }

    /// Appends `bytes`; call as often as needed, then `commit`.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!committed, "write after commit")
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                // Someone else's nonblocking stdout: wait until it drains.
                if errno == EAGAIN {
                    var waiting = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&waiting, 1, -1)
                    continue
                }
                throw SystemError("cannot write the output file", path: path)
            }
            offset += n
        }
    }

    /// Puts the profile in place: for a regular file, synced, given the
    /// old file's owner and mode (or the sudo user's, for a new one), then
    /// renamed over the target. A stream needs nothing.
    func commit() throws {
        guard !committed else { return }
        guard case let .replace(target) = destination, let temporaryName else {
            committed = true
            return
        }
        if let (uid, gid) = target.ownerForNewFile() {
            guard fchown(fd, uid, gid) == 0 else { throw SystemError("cannot write the output file \(path): cannot give it to its owner") }
        }
        guard fchmod(fd, target.mode) == 0 else { throw SystemError("cannot write the output file \(path): cannot set its mode") }
        guard fsync(fd) == 0 else { throw SystemError("cannot write the output file", path: path) }
        guard renameat(target.directoryFD, temporaryName, target.directoryFD, target.name) == 0 else {
            throw SystemError("cannot write the output file \(path): cannot rename the new profile over it")
        }
        committed = true
        // The rename is durable once the directory is.
        _ = fsync(target.directoryFD)
    }

    /// Called before sampling, so a read-only descriptor fails now.
    private static func requireWritable(_ fd: Int32, path: String) throws {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { throw SystemError("cannot write the output file", path: path) }
        if flags & O_ACCMODE == O_RDONLY { throw SystemError("cannot write the output file", path: path, errno: EBADF) }
    }

    /// A FIFO is opened nonblocking first: with no reader that fails with
    /// ENXIO at once, where a blocking open would wait forever. No
    /// O_TRUNC, no O_CREAT: a device or FIFO is written as it is.
    private static func openStream(_ target: OutputDestination.Target, isFIFO: Bool) throws -> Int32 {
        let path = target.displayPath
        let fd = openat(target.directoryFD, target.name,
                        O_WRONLY | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC | (isFIFO ? O_NONBLOCK : 0))
        guard fd >= 0 else {
            if isFIFO && errno == ENXIO {
                throw CLIError("-o \(path): no process is reading this FIFO; start its reader first "
                    + "(e.g. `cat \(path) > profile.svg &`)")
            }
            throw SystemError("cannot write the output file", path: path)
        }
        var info = stat()
        let kind = fstat(fd, &info) == 0 ? info.st_mode & S_IFMT : 0
        guard kind == (isFIFO ? S_IFIFO : S_IFCHR) else {
            close(fd)
            throw CLIError("-o \(path): the path was replaced while pyrograph opened it; try again")
        }
        // Writes should wait for a slow reader, not fail with EAGAIN.
        if isFIFO { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) }
        return fd
    }

    /// A fresh name no one else can have made: O_EXCL refuses an existing
    /// file or a planted symlink.
    private static func createTemporary(in target: OutputDestination.Target) throws -> (Int32, String) {
        for _ in 0..<32 {
            let name = ".\(target.name.prefix(200)).pyrograph-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
            let fd = openat(target.directoryFD, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 { return (fd, name) }
            if errno != EEXIST {
                throw SystemError("cannot write the output file \(target.displayPath): cannot create a new file in its directory")
            }
        }
        throw SystemError("cannot write the output file \(target.displayPath): cannot create a new file in its directory", errno: EEXIST)
    }
}
