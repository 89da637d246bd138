import Glibc

/// Where a long recording sets its retired stacks aside (`ProfileSink`):
/// chunks of bytes appended to a file without a name, read back at the
/// stop. Unnamed (`O_TMPFILE`, or a random name unlinked at once where the
/// file system cannot), so nobody can plant a file or a link in its place,
/// and the kernel frees it however pyrograph ends. Opened at the first
/// chunk: a recording that never spills makes no file.
public final class StackSpillFile {
    public enum Failure: Error, Equatable {
        case cannotCreate(directory: String, errno: Int32)
        case cannotWrite(errno: Int32)
        case cannotRead(errno: Int32)
    }

    /// The directories tried in turn: `$TMPDIR`, then `/var/tmp` (on disk
    /// on most systems, where `/tmp` is often memory), then `/tmp`.
    public static var defaultDirectories: [String] {
        let tmpdir = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        return (tmpdir.map { [$0] } ?? []) + ["/var/tmp", "/tmp"]
    }

    private let directories: [String]
    private var descriptor: Int32 = -1
    private var chunks: [(offset: Int, length: Int)] = []
    public private(set) var bytesWritten = 0

    public init(directories: [String] = StackSpillFile.defaultDirectories) {
        self.directories = directories
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    public var chunkCount: Int { chunks.count }

    public func append(_ bytes: [UInt8]) throws {
        try openIfNeeded()
        var done = 0
        while done < bytes.count {
            let wrote = bytes.withUnsafeBytes { buffer in
                pwrite(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(bytesWritten + done))
            }
            if wrote < 0 && errno == EINTR { continue }
            // A short write's tail is overwritten by the next chunk: the
            // file only ever holds whole chunks that `chunks` lists.
            guard wrote > 0 else { throw Failure.cannotWrite(errno: wrote < 0 ? errno : ENOSPC) }
            done += wrote
        }
        chunks.append((bytesWritten, bytes.count))
        bytesWritten += bytes.count
    }

    /// The chunk's bytes, as appended.
    public func chunk(_ index: Int) throws -> [UInt8] {
        let (offset, length) = chunks[index]
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let read = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + done, length - done, off_t(offset + done))
            }
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { throw Failure.cannotRead(errno: read < 0 ? errno : EIO) }
            done += read
        }
        return bytes
    }

    private func openIfNeeded() throws {
        guard descriptor < 0 else { return }
        var failure = Failure.cannotCreate(directory: directories.first ?? "", errno: ENOENT)
        for directory in directories {
            descriptor = Self.openUnnamed(in: directory)
            if descriptor >= 0 { return }
            failure = .cannotCreate(directory: directory, errno: errno)
        }
        throw failure
    }

    /// `O_TMPFILE` is `__O_TMPFILE | O_DIRECTORY`, a macro Swift does not
    /// import; its value is the same on every Linux architecture Swift runs on.
    private static let unnamedFlag: Int32 = 0o20_000_000 | O_DIRECTORY

    private static func openUnnamed(in directory: String) -> Int32 {
        let flags = O_RDWR | O_CLOEXEC
        let unnamed = open(directory, flags | unnamedFlag, 0o600)
        if unnamed >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) { return unnamed }
        // No O_TMPFILE here: a fresh random name, created exclusively (so
        // never a file or link already there), gone from the directory at once.
        var template = Array((directory + "/pyrograph-spill-XXXXXX").utf8CString)
        let named = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard named >= 0 else { return -1 }
        _ = fcntl(named, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return named
    }
}
