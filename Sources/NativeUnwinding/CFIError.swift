/// Why CFI could not be read. Offsets are in bytes from the start of the
/// section (or of the instruction block being interpreted).
public enum CFIError: Error, Equatable, CustomStringConvertible {
    case truncated(offset: Int)
    case badLength(offset: Int)
    case noCIE(fdeOffset: Int, cieOffset: Int)
    case unsupportedVersion(cieOffset: Int, version: UInt8)
    case unsupportedAugmentation(cieOffset: Int, augmentation: String)
    case unsupportedPointerEncoding(UInt8)
    case unknownInstruction(opcode: UInt8, offset: Int)
    /// An instruction that needs a register-based CFA met an expression,
    /// or restore_state found nothing remembered.
    case invalidInstruction(opcode: UInt8, offset: Int)
    case locationGoesBackwards(offset: Int)

    public var description: String {
        switch self {
        case let .truncated(offset): return "CFI entry truncated at byte \(offset)"
        case let .badLength(offset): return "CFI entry at byte \(offset) has an impossible length"
        case let .noCIE(fdeOffset, cieOffset): return "FDE at \(fdeOffset) names a CIE at \(cieOffset) that is not there"
        case let .unsupportedVersion(cieOffset, version): return "CIE at \(cieOffset) has unsupported version \(version)"
        case let .unsupportedAugmentation(cieOffset, augmentation):
            return "CIE at \(cieOffset) has augmentation \"\(augmentation)\" without 'z', so its length is unknown"
        case let .unsupportedPointerEncoding(encoding): return "unsupported DW_EH_PE pointer encoding 0x\(String(encoding, radix: 16))"
        case let .unknownInstruction(opcode, offset): return "unknown CFA instruction 0x\(String(opcode, radix: 16)) at byte \(offset)"
        case let .invalidInstruction(opcode, offset):
            return "CFA instruction 0x\(String(opcode, radix: 16)) at byte \(offset) is invalid in this state"
        case let .locationGoesBackwards(offset): return "DW_CFA_set_loc at byte \(offset) moves backwards"
        }
    }
}

/// Why a file's unwind table could not be compiled.
public enum UnwindTableError: Error, Equatable, CustomStringConvertible {
    case notELF(path: String, reason: String)
    case notX86_64(path: String)
    /// The BPF rows hold 32-bit pcs; this file's code lies above 4 GiB.
    case addressTooLarge(path: String, address: UInt64)
    case malformedCFI(path: String, section: String, CFIError)

    public var description: String {
        switch self {
        case let .notELF(path, reason): return "\(path) is not a readable ELF file: \(reason)"
        case let .notX86_64(path): return "\(path) is not an x86_64 ELF64 file; only x86_64 CFI is compiled"
        case let .addressTooLarge(path, address):
            return "\(path) has code at 0x\(String(address, radix: 16)), beyond the 32-bit pcs of unwind rows"
        case let .malformedCFI(path, section, error): return "\(path): \(section): \(error)"
        }
    }
}
