import CPyrograph
import Glibc
import ProcessInspection

/// What pyrograph needs from one ELF file: its function symbols and loadable
/// segments (to turn a runtime address into the file's virtual address).
/// Read with libelf, which also handles compressed sections.
public struct ELFFile: Sendable {
    public struct LoadSegment: Sendable, Equatable {
        public var fileOffset: UInt64
        public var virtualAddress: UInt64
        public var fileSize: UInt64
        public var memorySize: UInt64
    }

    public let path: String
    public let symbols: SymbolTable
    public let segments: [LoadSegment]
    public let buildID: String?

    public init(path: String) throws {
        self = try ELFFile.withELF(path: path) { try ELFFile(path: path, elf: $0) }
    }

    private init(path: String, elf: OpaquePointer) throws {
        self.path = path
        self.segments = ELFFile.readSegments(elf)
        var collected: [SymbolTable.Symbol] = []
        var buildID: String?
        var section: OpaquePointer? = elf_nextscn(elf, nil)
        while let current = section {
            defer { section = elf_nextscn(elf, current) }
            var header = GElf_Shdr()
            guard gelf_getshdr(current, &header) != nil else { continue }
            switch header.sh_type {
            case UInt32(SHT_SYMTAB), UInt32(SHT_DYNSYM):
                ELFFile.readSymbols(elf, section: current, header: header, into: &collected)
            case UInt32(SHT_NOTE):
                buildID = buildID ?? ELFFile.readBuildID(section: current)
            default:
                break
            }
        }
        self.symbols = SymbolTable(collected)
        self.buildID = buildID
    }

    /// Maps an offset in the file (as /proc/PID/maps gives it) to the
    /// address the file's symbols use; this is where PIE and shared-library
    /// load bias cancel out.
    public func virtualAddress(forFileOffset offset: UInt64) -> UInt64 {
        // The file's fields are untrusted: nothing here may overflow.
        for segment in segments where offset >= segment.fileOffset && offset - segment.fileOffset < max(segment.fileSize, 1) {
            return (offset - segment.fileOffset) &+ segment.virtualAddress
        }
        return offset
    }

    static func readSegments(_ elf: OpaquePointer) -> [LoadSegment] {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { return [] }
        var segments: [LoadSegment] = []
        for index in 0..<count {
            var header = GElf_Phdr()
            guard gelf_getphdr(elf, Int32(index), &header) != nil, header.p_type == UInt32(PT_LOAD) else { continue }
            segments.append(LoadSegment(fileOffset: header.p_offset, virtualAddress: header.p_vaddr,
                                        fileSize: header.p_filesz, memorySize: header.p_memsz))
        }
        return segments
    }

    private static func readSymbols(_ elf: OpaquePointer, section: OpaquePointer, header: GElf_Shdr,
                                    into symbols: inout [SymbolTable.Symbol]) {
        guard header.sh_entsize > 0, let data = elf_getdata(section, nil) else { return }
        let count = Int(header.sh_size / header.sh_entsize)
        symbols.reserveCapacity(symbols.count + count)
        for index in 0..<count {
            var symbol = GElf_Sym()
            guard gelf_getsym(data, Int32(index), &symbol) != nil else { continue }
            let type = Int32(symbol.st_info & 0xf)
            // A size-0 symbol (_init, assembler labels) would otherwise claim
            // everything up to the next one, such as the whole PLT.
            guard type == STT_FUNC || type == STT_GNU_IFUNC, symbol.st_value != 0, symbol.st_size > 0,
                  symbol.st_shndx != UInt16(SHN_UNDEF),
                  let rawName = elf_strptr(elf, Int(header.sh_link), Int(symbol.st_name)), rawName.pointee != 0
            else { continue }
            symbols.append(.init(address: symbol.st_value, size: symbol.st_size, name: String(cString: rawName)))
        }
    }

    private static func readBuildID(section: OpaquePointer) -> String? {
        guard let data = elf_getdata(section, nil), let base = data.pointee.d_buf else { return nil }
        let bytes = UnsafeRawBufferPointer(start: base, count: Int(data.pointee.d_size))
        var offset = 0
        while offset + 12 <= bytes.count {
            let nameSize = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let descSize = Int(bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
            let type = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let nameStart = offset + 12
            let descStart = nameStart + ((nameSize + 3) & ~3)
            let next = descStart + ((descSize + 3) & ~3)
            guard next <= bytes.count else { return nil }
            if type == 3 /* NT_GNU_BUILD_ID */ && nameSize == 4 {
                return bytes[descStart..<descStart + descSize].map { String(format2: $0) }.joined()
            }
            offset = next
        }
        return nil
    }
}

extension String {
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
    }
}

public enum SymbolizationError: Error, CustomStringConvertible {
    case notELF(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notELF(path, reason): return "\(path) is not a readable ELF file: \(reason)"
        }
    }
}

extension ELFFile {
    /// The values of the named symbols, of any type, from .symtab and
    /// .dynsym. For the few data symbols an interpreter is found by.
    public static func symbolValues(path: String, names: Set<String>) throws -> [String: UInt64] {
        try withELF(path: path) { elf in
            var found: [String: UInt64] = [:]
            var section: OpaquePointer? = elf_nextscn(elf, nil)
            while let current = section, found.count < names.count {
                defer { section = elf_nextscn(elf, current) }
                var header = GElf_Shdr()
                guard gelf_getshdr(current, &header) != nil,
                      header.sh_type == UInt32(SHT_SYMTAB) || header.sh_type == UInt32(SHT_DYNSYM),
                      header.sh_entsize > 0, let data = elf_getdata(current, nil) else { continue }
                for index in 0..<Int(header.sh_size / header.sh_entsize) {
                    var symbol = GElf_Sym()
                    guard gelf_getsym(data, Int32(index), &symbol) != nil, symbol.st_value != 0,
                          symbol.st_shndx != UInt16(SHN_UNDEF),
                          let raw = elf_strptr(elf, Int(header.sh_link), Int(symbol.st_name)) else { continue }
                    let name = String(cString: raw)
                    if names.contains(name) && found[name] == nil { found[name] = symbol.st_value }
                }
            }
            return found
        }
    }

    /// The bytes of one section, or nil if the file has none by that name.
    public static func sectionData(path: String, named wanted: String) throws -> [UInt8]? {
        try withSection(path: path, named: wanted) { section, _ in
            guard let data = elf_getdata(section, nil), let base = data.pointee.d_buf else { return nil }
            return Array(UnsafeRawBufferPointer(start: base, count: Int(data.pointee.d_size)))
        }
    }

    /// The link-time address of one section (its `sh_addr`), or nil if the
    /// file has none by that name.
    public static func sectionAddress(path: String, named wanted: String) throws -> UInt64? {
        try withSection(path: path, named: wanted) { _, header in header.sh_addr }
    }

    /// `body` applied to the first section named `wanted`, or nil if none is.
    private static func withSection<T>(path: String, named wanted: String,
                                       _ body: (OpaquePointer, GElf_Shdr) -> T?) throws -> T? {
        try withELF(path: path) { elf in
            var stringsIndex = 0
            guard elf_getshdrstrndx(elf, &stringsIndex) == 0 else { return nil }
            var section: OpaquePointer? = elf_nextscn(elf, nil)
            while let current = section {
                defer { section = elf_nextscn(elf, current) }
                var header = GElf_Shdr()
                guard gelf_getshdr(current, &header) != nil,
                      let raw = elf_strptr(elf, stringsIndex, Int(header.sh_name)),
                      String(cString: raw) == wanted else { continue }
                return body(current, header)
            }
            return nil
        }
    }

    /// Runs `body` with the file open in libelf; the one place files are opened.
    public static func withELF<T>(path: String, _ body: (OpaquePointer) throws -> T) throws -> T {
        pyro_elf_init()
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        defer { close(fd) }
        guard let elf = elf_begin(fd, ELF_C_READ_MMAP, nil), elf_kind(elf) == ELF_K_ELF else {
            throw SymbolizationError.notELF(path: path, reason: String(cString: elf_errmsg(-1)))
        }
        defer { elf_end(elf) }
        return try body(elf)
    }

    /// The lowest address of a loadable segment: what the first mapping of
    /// the file holds. A process's load bias is that mapping's start minus
    /// this address, page-aligned (zero for a non-PIE executable).
    public static func lowestLoadAddress(path: String) throws -> UInt64 {
        try withELF(path: path) { elf in readSegments(elf).map(\.virtualAddress).min() ?? 0 }
    }
}
