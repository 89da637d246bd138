import Glibc
import ProcessInspection

/// The kernel's vDSO as an ELF file on disk, so that the same code that
/// reads libraries can read its symbols and CFI. Every process of one
/// kernel maps the same image, so it is copied once, from the first process
/// that needs it.
public enum VDSOImage {
    private static var cachedPath: String?
    private static var attempted = false
    private static let lock = PthreadMutex()

    /// A path to a copy of the vDSO, or nil if it could not be read.
    public static func path(from process: ProcessDirectory, mapping: MemoryMapping) -> String? {
        lock.locked {
            if attempted { return cachedPath }
            attempted = true
            guard let memory = try? ProcessMemory(pid: process.pid, procRoot: process.procRoot),
                  let bytes = memory.bytes(mapping.start, count: Int(mapping.end - mapping.start)) else { return nil }
            var template = Array("/tmp/pyrograph-vdso-XXXXXX".utf8CString)
            let fd = mkstemp(&template)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            let path = String(cString: template)
            // Unlinked at exit; the name is only needed while pyrograph runs.
            atexit { VDSOImage.removeCopy() }
            guard written == bytes.count else { unlink(path); return nil }
            cachedPath = path
            return path
        }
    }

    static func removeCopy() {
        if let cachedPath { unlink(cachedPath) }
    }
}

/// A pthread mutex, for the little shared state outside the main thread.
final class PthreadMutex {
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}
