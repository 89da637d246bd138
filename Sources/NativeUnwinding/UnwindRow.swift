import CPyrograph

extension pyro_unwind_row {
    init(pc: UInt32, cfa: pyro_cfa_rule, cfaOffset: Int32 = 0, rbp: pyro_rbp_rule = PYRO_RBP_SAME, rbpOffset: Int32 = 0) {
        self.init(pc: pc, cfa_rule: UInt8(cfa.rawValue), rbp_rule: UInt8(rbp.rawValue), flags: 0,
                  cfa_offset: cfaOffset, rbp_offset: rbpOffset)
    }

    /// The same rules, whatever the pc.
    func hasSameRules(as other: pyro_unwind_row) -> Bool {
        cfa_rule == other.cfa_rule && rbp_rule == other.rbp_rule
            && cfa_offset == other.cfa_offset && rbp_offset == other.rbp_offset && flags == other.flags
    }
}

/// Turns a CFI row into the BPF unwinder's row: the cases the unwinder can
/// follow, and UNSUPPORTED or END for the rest. Rows the unwinder cannot
/// follow carry zero offsets and rbp SAME, so that neighbours merge.
enum UnwindRowCompiler {
    static let rsp: UInt64 = 7

    static func compile(_ row: CFIRow, pc: UInt32) -> pyro_unwind_row {
        switch row.returnAddress {
        case .undefined: return pyro_unwind_row(pc: pc, cfa: PYRO_CFA_END)
        case .offset(-8): break
        default: return pyro_unwind_row(pc: pc, cfa: PYRO_CFA_UNSUPPORTED)
        }
        let rule: pyro_cfa_rule
        let cfaOffset: Int32
        switch row.cfa {
        case let .registerOffset(register, offset) where register == rsp || register == CFAInterpreter.rbpRegister:
            guard let narrow = Int32(exactly: offset) else { return pyro_unwind_row(pc: pc, cfa: PYRO_CFA_UNSUPPORTED) }
            rule = register == rsp ? PYRO_CFA_RSP : PYRO_CFA_RBP
            cfaOffset = narrow
        case let .expression(bytes):
            guard let threshold = pltThreshold(bytes) else { return pyro_unwind_row(pc: pc, cfa: PYRO_CFA_UNSUPPORTED) }
            rule = PYRO_CFA_PLT
            cfaOffset = threshold
        default:
            return pyro_unwind_row(pc: pc, cfa: PYRO_CFA_UNSUPPORTED)
        }
        switch row.rbp {
        case .unspecified, .sameValue:
            return pyro_unwind_row(pc: pc, cfa: rule, cfaOffset: cfaOffset, rbp: PYRO_RBP_SAME)
        case let .offset(offset):
            guard let narrow = Int32(exactly: offset) else { return pyro_unwind_row(pc: pc, cfa: PYRO_CFA_UNSUPPORTED) }
            return pyro_unwind_row(pc: pc, cfa: rule, cfaOffset: cfaOffset, rbp: PYRO_RBP_AT_CFA, rbpOffset: narrow)
        case .undefined, .valueOffset, .register, .expression, .valueExpression:
            // rbp cannot be recovered; the caller's frame may still be found.
            return pyro_unwind_row(pc: pc, cfa: rule, cfaOffset: cfaOffset, rbp: PYRO_RBP_UNDEFINED)
        }
    }

    /// The lazy PLT's CFA expression as binutils writes it:
    /// rsp + 8 + ((rip & 15) >= N ? 8 : 0), with N = 11 (or 10). Returns N,
    /// the first stub byte past the stub's push.
    static func pltThreshold(_ expression: ArraySlice<UInt8>) -> Int32? {
        // DW_OP_breg7 8; DW_OP_breg16 0; DW_OP_lit15; DW_OP_and; DW_OP_litN;
        // DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus
        let bytes = Array(expression)
        guard bytes.count == 11, bytes[0...3] == [0x77, 0x08, 0x80, 0x00], bytes[4...5] == [0x3f, 0x1a],
              bytes[7...10] == [0x2a, 0x33, 0x24, 0x22] else { return nil }
        switch bytes[6] {
        case 0x3b: return 11
        case 0x3a: return 10
        default: return nil
        }
    }
}
