/// A DW_EH_PE_* pointer encoding (LSB, "Exception Frames"): the low nibble
/// is the value's format, bits 4 to 6 what it is relative to, bit 7 that
/// the value is the address of the pointer rather than the pointer.
public struct PointerEncoding: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    // Formats.
    public static let absptr = PointerEncoding(rawValue: 0x00)
    public static let uleb128 = PointerEncoding(rawValue: 0x01)
    public static let udata2 = PointerEncoding(rawValue: 0x02)
    public static let udata4 = PointerEncoding(rawValue: 0x03)
    public static let udata8 = PointerEncoding(rawValue: 0x04)
    public static let sleb128 = PointerEncoding(rawValue: 0x09)
    public static let sdata2 = PointerEncoding(rawValue: 0x0a)
    public static let sdata4 = PointerEncoding(rawValue: 0x0b)
    public static let sdata8 = PointerEncoding(rawValue: 0x0c)
    // Applications, or'ed with a format.
    public static let pcrel: UInt8 = 0x10
    public static let textrel: UInt8 = 0x20
    public static let datarel: UInt8 = 0x30
    public static let funcrel: UInt8 = 0x40
    public static let aligned: UInt8 = 0x50
    public static let indirect: UInt8 = 0x80
    /// No value follows.
    public static let omit = PointerEncoding(rawValue: 0xff)

    public var format: UInt8 { rawValue & 0x0f }
    public var application: UInt8 { rawValue & 0x70 }
    public var isIndirect: Bool { rawValue & 0x80 != 0 && self != .omit }

    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// What relative encodings are relative to, for one entry being read.
struct PointerBases {
    /// The address of byte 0 of the section: pcrel adds the field's offset.
    var section: UInt64
    var text: UInt64?
    var data: UInt64?
    /// The FDE's initial location, for funcrel (LSDA pointers only).
    var function: UInt64?
}

extension ByteReader {
    /// Reads one encoded pointer. An indirect pointer is returned as the
    /// address of the pointer; nothing here reads the memory it names.
    /// As in libgcc, a zero value is not rebased: it stays a null pointer.
    mutating func pointer(_ encoding: PointerEncoding, bases: PointerBases, addressSize: Int = 8) throws -> UInt64 {
        guard encoding != .omit else { return 0 }
        let fieldAddress = bases.section &+ UInt64(offset)
        if encoding.application == PointerEncoding.aligned {
            let misalignment = offset % addressSize
            if misalignment != 0 { try skip(addressSize - misalignment) }
            return try value(format: PointerEncoding.absptr.format, addressSize: addressSize)
        }
        let raw = try value(format: encoding.format, addressSize: addressSize)
        guard raw != 0 else { return 0 }
        let base: UInt64
        switch encoding.application {
        case 0: base = 0
        case PointerEncoding.pcrel: base = fieldAddress
        case PointerEncoding.textrel:
            guard let text = bases.text else { throw CFIError.unsupportedPointerEncoding(encoding.rawValue) }
            base = text
        case PointerEncoding.datarel:
            guard let data = bases.data else { throw CFIError.unsupportedPointerEncoding(encoding.rawValue) }
            base = data
        case PointerEncoding.funcrel:
            guard let function = bases.function else { throw CFIError.unsupportedPointerEncoding(encoding.rawValue) }
            base = function
        default:
            throw CFIError.unsupportedPointerEncoding(encoding.rawValue)
        }
        return base &+ raw
    }

    /// The unrelocated value of a pointer format: signed formats come back
    /// sign-extended, as a bit pattern.
    mutating func value(format: UInt8, addressSize: Int = 8) throws -> UInt64 {
        switch format {
        case PointerEncoding.absptr.format: return addressSize == 4 ? UInt64(try u32()) : try u64()
        case PointerEncoding.uleb128.format: return try uleb()
        case PointerEncoding.udata2.format: return UInt64(try u16())
        case PointerEncoding.udata4.format: return UInt64(try u32())
        case PointerEncoding.udata8.format: return try u64()
        case PointerEncoding.sleb128.format: return UInt64(bitPattern: try sleb())
        case PointerEncoding.sdata2.format: return UInt64(bitPattern: Int64(Int16(bitPattern: try u16())))
        case PointerEncoding.sdata4.format: return UInt64(bitPattern: Int64(Int32(bitPattern: try u32())))
        case PointerEncoding.sdata8.format: return try u64()
        default: throw CFIError.unsupportedPointerEncoding(format)
        }
    }
}
