/// How to compute the Canonical Frame Address in one row.
public enum CFARule: Equatable, Sendable {
    /// No DW_CFA_def_cfa yet.
    case undefined
    case registerOffset(register: UInt64, offset: Int64)
    /// DW_CFA_def_cfa_expression: the DWARF expression's bytes.
    case expression(ArraySlice<UInt8>)
}

/// How to recover one register of the caller (DWARF 5, 6.4.1).
public enum RegisterRule: Equatable, Sendable {
    /// No rule given; on x86_64 callee-saved registers then keep their value.
    case unspecified
    case undefined
    case sameValue
    /// Saved at CFA + offset.
    case offset(Int64)
    /// The value is CFA + offset.
    case valueOffset(Int64)
    /// Held in another register.
    case register(UInt64)
    case expression(ArraySlice<UInt8>)
    case valueExpression(ArraySlice<UInt8>)
}

/// One row of the CFI table: the rules from `address` up to the next row's
/// address (or the end of the FDE).
public struct CFIRow: Equatable, Sendable {
    public var address: UInt64
    public var cfa: CFARule
    public var rbp: RegisterRule
    public var returnAddress: RegisterRule
}

/// Runs CIE and FDE instruction programs (DWARF 5, 6.4.2) and produces the
/// rows of the table. It follows the CFA, rbp (DWARF register 6) and the
/// CIE's return-address column, the rules the BPF unwinder uses; the other
/// registers' instructions are decoded and skipped.
public struct CFAInterpreter {
    public static let rbpRegister: UInt64 = 6

    struct State: Equatable {
        var cfa: CFARule = .undefined
        var rbp: RegisterRule = .unspecified
        var returnAddress: RegisterRule = .unspecified
    }

    let section: CFISection
    let cie: CommonInformationEntry
    let initial: State

    /// Prepares to run the FDEs of `cie`: runs its initial instructions.
    public init(section: CFISection, cie: CommonInformationEntry) throws {
        self.section = section
        self.cie = cie
        var state = State()
        var stack: [State] = []
        var location: UInt64 = 0
        var ignored: [CFIRow] = []
        var program = ByteReader(section.bytes, offset: cie.initialInstructions.lowerBound,
                                 limit: cie.initialInstructions.upperBound)
        try Self.run(&program, state: &state, stack: &stack, location: &location, end: nil,
                     initial: state, cie: cie, section: section, rows: &ignored)
        initial = state
    }

    /// The rows of one FDE, appended to `rows`, in address order; each starts
    /// at a distinct address inside the FDE's range.
    public func rows(for fde: FrameDescriptionEntry, into rows: inout [CFIRow]) throws {
        var state = initial
        var stack: [State] = []
        var location = fde.initialLocation
        var program = ByteReader(section.bytes, offset: fde.instructions.lowerBound, limit: fde.instructions.upperBound)
        try Self.run(&program, state: &state, stack: &stack, location: &location, end: fde.endLocation,
                     initial: initial, cie: cie, section: section, rows: &rows)
        if location < fde.endLocation { Self.emit(state, at: location, into: &rows) }
    }

    /// Convenience: the rows of one FDE as a new array.
    public func rows(for fde: FrameDescriptionEntry) throws -> [CFIRow] {
        var rows: [CFIRow] = []
        try self.rows(for: fde, into: &rows)
        return rows
    }

    private static func emit(_ state: State, at location: UInt64, into rows: inout [CFIRow]) {
        rows.append(CFIRow(address: location, cfa: state.cfa, rbp: state.rbp, returnAddress: state.returnAddress))
    }

    // The program is run to its end, or until the location reaches `end`
    // (nil for a CIE's initial instructions, which emit no rows). Each
    // advance emits the row that held up to the new location.
    private static func run(_ program: inout ByteReader, state: inout State, stack: inout [State],
                            location: inout UInt64, end: UInt64?, initial: State, cie: CommonInformationEntry,
                            section: CFISection, rows: inout [CFIRow]) throws {
        let codeFactor = cie.codeAlignmentFactor
        let dataFactor = cie.dataAlignmentFactor
        let raColumn = cie.returnAddressRegister

        func advance(to newLocation: UInt64) {
            if let end, newLocation > location, location < end { emit(state, at: location, into: &rows) }
            location = newLocation
        }
        func set(_ register: UInt64, _ rule: RegisterRule) {
            if register == rbpRegister { state.rbp = rule }
            if register == raColumn { state.returnAddress = rule }
        }
        func restore(_ register: UInt64) {
            if register == rbpRegister { state.rbp = initial.rbp }
            if register == raColumn { state.returnAddress = initial.returnAddress }
        }

        while !program.isAtEnd {
            if let end, location >= end { break }
            let opcodeOffset = program.offset
            let opcode = try program.u8()
            func setCFAOffset(_ offset: Int64) throws {
                guard case let .registerOffset(register, _) = state.cfa else {
                    throw CFIError.invalidInstruction(opcode: opcode, offset: opcodeOffset)
                }
                state.cfa = .registerOffset(register: register, offset: offset)
            }
            let operand = UInt64(opcode & 0x3f)
            switch opcode >> 6 {
            case 1: // DW_CFA_advance_loc
                advance(to: location &+ operand &* codeFactor)
                continue
            case 2: // DW_CFA_offset
                set(operand, .offset(Int64(bitPattern: try program.uleb()) &* dataFactor))
                continue
            case 3: // DW_CFA_restore
                restore(operand)
                continue
            default:
                break
            }
            switch opcode {
            case 0x00: // nop
                break
            case 0x01: // set_loc
                let encoding = section.kind == .ehFrame ? cie.pointerEncoding : .absptr
                let target = try program.pointer(encoding, bases: section.bases, addressSize: Int(cie.addressSize))
                guard target >= location else { throw CFIError.locationGoesBackwards(offset: opcodeOffset) }
                advance(to: target)
            case 0x02: advance(to: location &+ UInt64(try program.u8()) &* codeFactor)
            case 0x03: advance(to: location &+ UInt64(try program.u16()) &* codeFactor)
            case 0x04: advance(to: location &+ UInt64(try program.u32()) &* codeFactor)
            case 0x05: // offset_extended
                let register = try program.uleb()
                set(register, .offset(Int64(bitPattern: try program.uleb()) &* dataFactor))
            case 0x06: restore(try program.uleb())
            case 0x07: set(try program.uleb(), .undefined)
            case 0x08: set(try program.uleb(), .sameValue)
            case 0x09: // register
                let register = try program.uleb()
                set(register, .register(try program.uleb()))
            case 0x0a: stack.append(state) // remember_state (the CFA too, as GCC and LLVM do)
            case 0x0b: // restore_state
                guard let remembered = stack.popLast() else {
                    throw CFIError.invalidInstruction(opcode: opcode, offset: opcodeOffset)
                }
                state = remembered
            case 0x0c: // def_cfa
                let register = try program.uleb()
                state.cfa = .registerOffset(register: register, offset: Int64(bitPattern: try program.uleb()))
            case 0x0d: // def_cfa_register
                let register = try program.uleb()
                guard case let .registerOffset(_, offset) = state.cfa else {
                    throw CFIError.invalidInstruction(opcode: opcode, offset: opcodeOffset)
                }
                state.cfa = .registerOffset(register: register, offset: offset)
            case 0x0e: // def_cfa_offset
                try setCFAOffset(Int64(bitPattern: try program.uleb()))
            case 0x0f: state.cfa = .expression(try program.block())
            case 0x10: // expression
                let register = try program.uleb()
                set(register, .expression(try program.block()))
            case 0x11: // offset_extended_sf
                let register = try program.uleb()
                set(register, .offset(try program.sleb() &* dataFactor))
            case 0x12: // def_cfa_sf
                let register = try program.uleb()
                state.cfa = .registerOffset(register: register, offset: try program.sleb() &* dataFactor)
            case 0x13: try setCFAOffset(try program.sleb() &* dataFactor) // def_cfa_offset_sf
            case 0x14: // val_offset
                let register = try program.uleb()
                set(register, .valueOffset(Int64(bitPattern: try program.uleb()) &* dataFactor))
            case 0x15: // val_offset_sf
                let register = try program.uleb()
                set(register, .valueOffset(try program.sleb() &* dataFactor))
            case 0x16: // val_expression
                let register = try program.uleb()
                set(register, .valueExpression(try program.block()))
            case 0x2e: _ = try program.uleb() // GNU_args_size
            case 0x2f: // GNU_negative_offset_extended
                let register = try program.uleb()
                set(register, .offset(0 &- Int64(bitPattern: try program.uleb()) &* dataFactor))
            default:
                throw CFIError.unknownInstruction(opcode: opcode, offset: opcodeOffset)
            }
        }
    }
}
