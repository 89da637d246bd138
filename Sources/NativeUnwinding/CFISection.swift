/// One section of call frame information, as the file holds it: `.eh_frame`
/// (LSB format: CIE id 0, CIE pointers relative, DW_EH_PE pointers) or
/// `.debug_frame` (DWARF format: CIE id all ones, CIE pointers are section
/// offsets, absolute addresses).
public struct CFISection: Sendable {
    public enum Kind: String, Sendable {
        case ehFrame = ".eh_frame"
        case debugFrame = ".debug_frame"
    }

    public let kind: Kind
    /// The section's sh_addr; pcrel pointers are relative to it.
    public let address: UInt64
    public let bytes: [UInt8]
    /// Bases for DW_EH_PE_textrel and DW_EH_PE_datarel (.text and the GOT).
    public var textBase: UInt64?
    public var dataBase: UInt64?

    public init(kind: Kind, address: UInt64, bytes: [UInt8], textBase: UInt64? = nil, dataBase: UInt64? = nil) {
        self.kind = kind
        self.address = address
        self.bytes = bytes
        self.textBase = textBase
        self.dataBase = dataBase
    }

    /// Every CIE and FDE of the section, FDEs in section order.
    public func entries() throws -> CFIEntries {
        var cies: [Int: CommonInformationEntry] = [:]
        var fdes: [FrameDescriptionEntry] = []
        var offset = 0
        while bytes.count - offset >= 4 {
            let header = try EntryHeader(bytes: bytes, at: offset, kind: kind)
            guard let header else {
                if kind == .ehFrame { break } // the zero terminator
                offset += 4
                continue
            }
            if header.isCIE {
                if cies[offset] == nil { cies[offset] = try parseCIE(header) }
            } else {
                let cie: CommonInformationEntry
                if let known = cies[header.ciePointer] {
                    cie = known
                } else {
                    guard let cieHeader = try? EntryHeader(bytes: bytes, at: header.ciePointer, kind: kind),
                          cieHeader.isCIE else {
                        throw CFIError.noCIE(fdeOffset: offset, cieOffset: header.ciePointer)
                    }
                    cie = try parseCIE(cieHeader)
                    cies[header.ciePointer] = cie
                }
                fdes.append(try parseFDE(header, cie: cie))
            }
            offset = header.end
        }
        return CFIEntries(cies: cies, fdes: fdes)
    }

    var bases: PointerBases { PointerBases(section: address, text: textBase, data: dataBase) }

    private func parseCIE(_ header: EntryHeader) throws -> CommonInformationEntry {
        var reader = ByteReader(bytes, offset: header.contentStart, limit: header.end)
        let version = try reader.u8()
        let supported: Set<UInt8> = kind == .ehFrame ? [1, 3] : [1, 3, 4]
        guard supported.contains(version) else {
            throw CFIError.unsupportedVersion(cieOffset: header.start, version: version)
        }
        let augmentation = try reader.cString()
        var addressSize: UInt8 = 8
        if augmentation.hasPrefix("eh") { try reader.skip(Int(addressSize)) } // GCC 2's eh_ptr
        if version >= 4 {
            addressSize = try reader.u8()
            _ = try reader.u8() // segment selector size
        }
        let codeAlignment = try reader.uleb()
        let dataAlignment = try reader.sleb()
        let returnAddress = version == 1 ? UInt64(try reader.u8()) : try reader.uleb()
        var cie = CommonInformationEntry(
            offset: header.start, version: version, augmentation: augmentation, addressSize: addressSize,
            codeAlignmentFactor: codeAlignment, dataAlignmentFactor: dataAlignment,
            returnAddressRegister: returnAddress, initialInstructions: 0..<0)
        if augmentation.hasPrefix("z") {
            cie.hasAugmentationData = true
            let length = try reader.uleb()
            guard length <= UInt64(header.end - reader.offset) else { throw CFIError.badLength(offset: header.start) }
            let dataEnd = reader.offset + Int(length)
            letters: for letter in augmentation.utf8.dropFirst() {
                switch letter {
                case UInt8(ascii: "R"): cie.pointerEncoding = PointerEncoding(rawValue: try reader.u8())
                case UInt8(ascii: "L"): cie.lsdaEncoding = PointerEncoding(rawValue: try reader.u8())
                case UInt8(ascii: "P"):
                    let encoding = PointerEncoding(rawValue: try reader.u8())
                    cie.personalityEncoding = encoding
                    cie.personality = try reader.pointer(encoding, bases: bases, addressSize: Int(addressSize))
                case UInt8(ascii: "S"): cie.isSignalFrame = true
                case UInt8(ascii: "B"), UInt8(ascii: "G"): continue // AArch64 BTI and MTE markers, no data
                default: break letters // the length says where the data ends
                }
            }
            reader.offset = dataEnd
        } else if !augmentation.isEmpty && augmentation != "eh" {
            throw CFIError.unsupportedAugmentation(cieOffset: header.start, augmentation: augmentation)
        }
        cie.initialInstructions = reader.offset..<header.end
        return cie
    }

    private func parseFDE(_ header: EntryHeader, cie: CommonInformationEntry) throws -> FrameDescriptionEntry {
        var reader = ByteReader(bytes, offset: header.contentStart, limit: header.end)
        let addressSize = Int(cie.addressSize)
        let encoding = kind == .ehFrame ? cie.pointerEncoding : .absptr
        let start = try reader.pointer(encoding, bases: bases, addressSize: addressSize)
        let range = try reader.value(format: encoding.format, addressSize: addressSize)
        var lsda: UInt64?
        if cie.hasAugmentationData {
            let length = try reader.uleb()
            guard length <= UInt64(header.end - reader.offset) else { throw CFIError.badLength(offset: header.start) }
            let dataEnd = reader.offset + Int(length)
            if let lsdaEncoding = cie.lsdaEncoding, lsdaEncoding != .omit, length > 0 {
                var functionBases = bases
                functionBases.function = start
                lsda = try reader.pointer(lsdaEncoding, bases: functionBases, addressSize: addressSize)
            }
            reader.offset = dataEnd
        }
        return FrameDescriptionEntry(offset: header.start, cieOffset: cie.offset, initialLocation: start,
                                     addressRange: range, lsda: lsda, instructions: reader.offset..<header.end)
    }
}

/// The length, id and bounds of one entry.
struct EntryHeader {
    var start: Int
    var end: Int
    var isCIE: Bool
    /// For an FDE, the section offset of its CIE.
    var ciePointer: Int
    /// The first byte after the CIE id / CIE pointer.
    var contentStart: Int

    /// Nil for a zero length (the .eh_frame terminator).
    init?(bytes: [UInt8], at start: Int, kind: CFISection.Kind) throws {
        var reader = ByteReader(bytes, offset: start)
        var length = UInt64(try reader.u32())
        if length == 0 { return nil }
        let is64 = length == 0xffff_ffff
        if is64 { length = try reader.u64() }
        guard length <= UInt64(bytes.count - reader.offset) else { throw CFIError.badLength(offset: start) }
        self.start = start
        end = reader.offset + Int(length)
        reader.limit = end
        let idOffset = reader.offset
        let id = is64 ? try reader.u64() : UInt64(try reader.u32())
        contentStart = reader.offset
        switch kind {
        case .ehFrame:
            isCIE = id == 0
            guard id <= UInt64(idOffset) else { throw CFIError.badLength(offset: start) }
            ciePointer = isCIE ? start : idOffset - Int(id)
        case .debugFrame:
            isCIE = is64 ? id == UInt64.max : id == 0xffff_ffff
            guard isCIE || id < UInt64(bytes.count) else { throw CFIError.badLength(offset: start) }
            ciePointer = isCIE ? start : Int(id)
        }
    }
}

/// A Common Information Entry: what its FDEs share.
public struct CommonInformationEntry: Sendable {
    /// Offset of the entry's length field in its section.
    public let offset: Int
    public let version: UInt8
    public let augmentation: String
    public internal(set) var addressSize: UInt8
    public let codeAlignmentFactor: UInt64
    public let dataAlignmentFactor: Int64
    public let returnAddressRegister: UInt64
    /// 'z': FDEs carry augmentation data with a length.
    public internal(set) var hasAugmentationData = false
    /// 'R': how FDE addresses are encoded (.eh_frame only).
    public internal(set) var pointerEncoding: PointerEncoding = .absptr
    /// 'L': how FDEs' LSDA pointers are encoded.
    public internal(set) var lsdaEncoding: PointerEncoding?
    /// 'P': the personality routine (its address, or with an indirect
    /// encoding the address of the pointer to it).
    public internal(set) var personalityEncoding: PointerEncoding?
    public internal(set) var personality: UInt64?
    /// 'S': the frames are signal trampolines.
    public internal(set) var isSignalFrame = false
    /// Byte range of the initial instructions in the section.
    public internal(set) var initialInstructions: Range<Int>

    init(offset: Int, version: UInt8, augmentation: String, addressSize: UInt8, codeAlignmentFactor: UInt64,
         dataAlignmentFactor: Int64, returnAddressRegister: UInt64, initialInstructions: Range<Int>) {
        self.offset = offset
        self.version = version
        self.augmentation = augmentation
        self.addressSize = addressSize
        self.codeAlignmentFactor = codeAlignmentFactor
        self.dataAlignmentFactor = dataAlignmentFactor
        self.returnAddressRegister = returnAddressRegister
        self.initialInstructions = initialInstructions
    }
}

/// A Frame Description Entry: the CFA program of one address range.
public struct FrameDescriptionEntry: Sendable {
    public let offset: Int
    public let cieOffset: Int
    public let initialLocation: UInt64
    public let addressRange: UInt64
    public let lsda: UInt64?
    /// Byte range of the CFA instructions in the section.
    public let instructions: Range<Int>

    public var endLocation: UInt64 { initialLocation &+ addressRange }
}

public struct CFIEntries: Sendable {
    /// By section offset.
    public let cies: [Int: CommonInformationEntry]
    public let fdes: [FrameDescriptionEntry]
}
