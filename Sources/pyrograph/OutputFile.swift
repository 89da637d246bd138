import Glibc
import ProcessInspection

/// The profile's destination, opened before sampling starts so that an
/// unwritable path fails at once instead of after a long recording.
final class OutputFile {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("cannot write the output file", path: path) }
        // Under sudo, hand the file to the user who asked for it.
        if let uid = OutputFile.environmentID("SUDO_UID"), let gid = OutputFile.environmentID("SUDO_GID") {
            _ = fchown(fd, uid, gid)
        }
    }

    deinit { close(fd) }

    func write(_ text: String) throws {
        guard ftruncate(fd, 0) == 0 else { throw SystemError("truncate", path: path) }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pwrite(fd, $0.baseAddress! + offset, $0.count - offset, off_t(offset)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("write", path: path)
            }
            offset += n
        }
        bytes.removeAll()
    }

    private static func environmentID(_ name: String) -> UInt32? {
        guard let raw = getenv(name) else { return nil }
        return UInt32(String(cString: raw))
    }
}
