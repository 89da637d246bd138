import CPyrograph
import Glibc
import ProcessInspection
import Symbolization

/// What the table compiler needs from one x86_64 ELF file: its CFI
/// sections with their addresses, the bases of relative pointer encodings,
/// and the executable address ranges CFI should cover. Read with libelf,
/// which also inflates a compressed .debug_frame.
struct ELFUnwindSource {
    var sections: [CFISection] = []
    /// Executable PT_LOAD segments, by virtual address.
    var executableRanges: [Range<UInt64>] = []

    init(path: String) throws {
        do {
            self = try ELFFile.withELF(path: path) { try ELFUnwindSource(path: path, elf: $0) }
        } catch let SymbolizationError.notELF(path, reason) {
            throw UnwindTableError.notELF(path: path, reason: reason)
        }
    }

    private init(path: String, elf: OpaquePointer) throws {
        var header = GElf_Ehdr()
        guard gelf_getehdr(elf, &header) != nil else {
            throw UnwindTableError.notELF(path: path, reason: String(cString: elf_errmsg(-1)))
        }
        guard gelf_getclass(elf) == ELFCLASS64, header.e_machine == UInt16(EM_X86_64) else {
            throw UnwindTableError.notX86_64(path: path)
        }
        executableRanges = Self.executableSegments(elf)

        var found: [String: (address: UInt64, section: OpaquePointer)] = [:]
        var stringsIndex = 0
        guard elf_getshdrstrndx(elf, &stringsIndex) == 0 else { return }
        var section = elf_nextscn(elf, nil)
        while let current = section {
            defer { section = elf_nextscn(elf, current) }
            var sectionHeader = GElf_Shdr()
            guard gelf_getshdr(current, &sectionHeader) != nil, sectionHeader.sh_type != UInt32(SHT_NOBITS),
                  let rawName = elf_strptr(elf, stringsIndex, Int(sectionHeader.sh_name)) else { continue }
            let name = String(cString: rawName)
            if [".eh_frame", ".debug_frame", ".text", ".got", ".got.plt"].contains(name), found[name] == nil {
                found[name] = (sectionHeader.sh_addr, current)
            }
        }
        let textBase = found[".text"]?.address
        let dataBase = (found[".got.plt"] ?? found[".got"])?.address
        for kind in [CFISection.Kind.ehFrame, .debugFrame] {
            guard let (address, scn) = found[kind.rawValue], let bytes = Self.contents(of: scn) else { continue }
            sections.append(CFISection(kind: kind, address: address, bytes: bytes, textBase: textBase, dataBase: dataBase))
        }
    }

    private static func executableSegments(_ elf: OpaquePointer) -> [Range<UInt64>] {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { return [] }
        var ranges: [Range<UInt64>] = []
        for index in 0..<count {
            var header = GElf_Phdr()
            guard gelf_getphdr(elf, Int32(index), &header) != nil, header.p_type == UInt32(PT_LOAD),
                  header.p_flags & UInt32(PF_X) != 0, header.p_memsz > 0,
                  header.p_memsz <= UInt64.max - header.p_vaddr else { continue } // a segment past the address space
            ranges.append(header.p_vaddr..<header.p_vaddr &+ header.p_memsz)
        }
        return ranges.sorted { $0.lowerBound < $1.lowerBound }
    }

    /// The section's bytes, inflated if SHF_COMPRESSED.
    private static func contents(of section: OpaquePointer) -> [UInt8]? {
        var header = GElf_Shdr()
        guard gelf_getshdr(section, &header) != nil else { return nil }
        if header.sh_flags & UInt64(SHF_COMPRESSED) != 0 {
            guard elf_compress(section, 0, 0) >= 0 else { return nil }
        }
        guard let data = elf_getdata(section, nil) else { return nil }
        guard let base = data.pointee.d_buf else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: Int(data.pointee.d_size)))
    }
}
