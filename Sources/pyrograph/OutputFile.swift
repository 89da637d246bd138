import CPyrograph
import Glibc
import Output
import ProcessInspection

/// The profile's destination, checked and opened before sampling starts so
/// that a bad path fails at once instead of after a long recording.
///
/// A regular file is never written in place: the profile goes to a new
/// file created exclusively next to the target, which `commit` renames
/// over it, so a full disk or a kill leaves the old profile whole.
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

    /// Puts the profile in place: for a regular file, given the old file's
    /// owner and mode (or the sudo user's, for a new one), then renamed over
    /// the target. A stream needs nothing.
    ///
    /// Not synced to disk (nor are perf's or py-spy's files): a profile can
    /// be taken again, and on a host whose disk was busy one fsync took
    /// 4.8 s, which the stop must not wait for. The rename alone keeps the
    /// swap all-or-nothing for every failure of pyrograph's own.
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
        let old = OutputFile.openReplaced(target)
        guard renameat(target.directoryFD, temporaryName, target.directoryFD, target.name) == 0 else {
            if old >= 0 { close(old) }
            throw SystemError("cannot write the output file \(path): cannot rename the new profile over it")
        }
        committed = true
        if old >= 0 {
            // Ours closed first, then the go-ahead: the helper's is the last.
            var go: Int32 = -1
            _ = pyro_release_in_background([old], 1, &go)
            close(old)
            if go >= 0 { close(go) }
        }
    }

    /// The profile about to be replaced, if it is a non-empty regular file.
    /// Its blocks are freed when its last reference goes, which the rename
    /// would be: on a file system mounted with `discard` and a busy disk,
    /// that took seconds. A helper process holds the last reference and
    /// waits in pyrograph's place (pyro_release_in_background).
    private static func openReplaced(_ target: OutputDestination.Target) -> Int32 {
        let fd = openat(target.directoryFD, target.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size > 0 else {
            close(fd)
            return -1
        }
        return fd
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
