import Glibc
import NativeUnwinding
import Symbolization

/// Input: a whole ELF file. It is written to one unlinked temporary file and
/// read back by path (/proc/self/fd/N), as pyrograph reads every file: the symbol table and
/// build id, the named-symbol and section lookups, and the CFI compiler.
enum ELFFuzz {
    static let (fd, path): (Int32, String) = {
        var template = Array("/dev/shm/pyrograph-fuzz-elf-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        precondition(fd >= 0, "mkstemp in /dev/shm failed")
        unlink(template)
        return (fd, "/proc/self/fd/\(fd)")
    }()

    static func run(_ input: UnsafeRawBufferPointer) {
        guard ftruncate(fd, 0) == 0, pwrite(fd, input.baseAddress, input.count, 0) == input.count else { return }
        if let file = try? ELFFile(path: path) {
            for address in [0, 0x1000, 0x401000] as [UInt64] { _ = file.symbols.lookup(file.virtualAddress(forFileOffset: address)) }
        }
        _ = try? ELFFile.symbolValues(path: path, names: ["_PyRuntime", "Py_Version", "main"])
        _ = try? ELFFile.sectionData(path: path, named: ".eh_frame")
        _ = try? ELFFile.lowestLoadAddress(path: path)
        if let table = try? UnwindTable.compile(elfPath: path) { _ = table.row(for: 0x1000) }
    }
}
