import Glibc

/// Whole-file reads of small kernel-generated files (/proc, /sys), which
/// report a size of zero and so must be read until EOF.
public enum FileReader {
    public static func bytes(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while result.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path: path)
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    public static func string(_ path: String) throws -> String {
        String(decoding: try bytes(path), as: UTF8.self)
    }

    /// Reads `count` bytes at `offset` with pread, returning fewer on EOF.
    public static func read(fd: Int32, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(Int64(bitPattern: offset &+ UInt64(done))))
            if n < 0 {
                if errno == EINTR { continue }
                return done == 0 ? -1 : done
            }
            if n == 0 { break }
            done += n
        }
        return done
    }
}
