import Glibc

/// Where the Python walker and symbolizer read another program's memory
/// from: a live process, or a recorded image in tests.
public protocol MemoryReader: AnyObject {
    /// Fills `buffer` from `address`; returns false if any byte is unreadable.
    func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool
}

extension MemoryReader {
    public func bytes(_ address: UInt64, count: Int) -> [UInt8]? {
        guard count > 0 else { return count == 0 ? [] : nil }
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBytes { read(address, into: $0) }
        return ok ? out : nil
    }

    public func load<T: FixedWidthInteger>(_ type: T.Type, at address: UInt64) -> T? {
        var value: T = 0
        let ok = withUnsafeMutableBytes(of: &value) { read(address, into: $0) }
        return ok ? T(littleEndian: value) : nil
    }
}

/// Reads a live process through /proc/PID/mem, which neither stops nor
/// signals it.
public final class ProcessMemory: MemoryReader {
    public let pid: Int32
    private let fd: Int32

    public init(pid: Int32, procRoot: String = "/proc") throws {
        self.pid = pid
        let path = "\(procRoot)/\(pid)/mem"
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path) }
    }

    deinit { close(fd) }

    public func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        FileReader.read(fd: fd, offset: address, into: buffer) == buffer.count
    }
}
