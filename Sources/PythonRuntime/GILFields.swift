/// Where one process's GIL is, as the BPF side and `GILState` read it:
/// at a fixed address (3.7 to 3.11, inside `_PyRuntime`), or through the
/// first interpreter's pointer (3.12+).
struct GILFields: Equatable {
    /// The GIL's address; 0 when it is found through the interpreter.
    var address: UInt64
    var interpreterPointer: Int?

    /// nil when the fields do not fit the walker's 16-bit offsets or the
    /// runtime's address is unknown.
    init?(_ gil: GILLayout, _ layout: PythonLayout, interpreterHeadAddress: UInt64) {
        let limit = Int(UInt16.max) - 1
        guard gil.locked >= 0, gil.locked + 4 <= gil.size, gil.lastHolder >= 0, gil.lastHolder + 8 <= gil.size,
              gil.size <= limit
        else { return nil }
        switch gil.place {
        case .runtime(let offset):
            // interpreters.head lies in _PyRuntime too: the runtime starts
            // that far before it.
            guard let head = layout.runtimeInterpretersHead, interpreterHeadAddress >= UInt64(head) else { return nil }
            address = interpreterHeadAddress - UInt64(head) + UInt64(offset)
            interpreterPointer = nil
        case .interpreterPointer(let offset):
            guard offset >= 0, offset <= limit else { return nil }
            address = 0
            interpreterPointer = offset
        }
    }
}
