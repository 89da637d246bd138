/// Where one process's GIL is, as the BPF side and `GILState` read it:
/// at a fixed address (3.7 to 3.11, inside `_PyRuntime`; 2.7 and 3.6, the
/// `_PyThreadState_Current` pointer), or through the first interpreter's
/// pointer (3.12+).
struct GILFields: Equatable {
    /// The GIL's address; 0 when it is found through the interpreter.
    var address: UInt64
    var interpreterPointer: Int?

    /// nil when the fields do not fit the walker's 16-bit offsets or the
    /// runtime's (or the current thread state's) address is unknown.
    init?(_ gil: GILLayout, _ layout: PythonLayout, interpreterHeadAddress: UInt64, currentThreadState: UInt64? = nil) {
        let limit = Int(UInt16.max) - 1
        // Sizes first, so that no sum below can overflow: the offsets may
        // come from a process's own _Py_DebugOffsets.
        guard gil.size >= 8, gil.size <= limit, gil.locked.map({ $0 >= 0 && $0 <= gil.size - 4 }) ?? true,
              gil.lastHolder >= 0, gil.lastHolder <= gil.size - 8
        else { return nil }
        switch gil.place {
        case .runtime(let offset):
            // interpreters.head lies in _PyRuntime too: the runtime starts
            // that far before it.
            guard let head = layout.runtimeInterpretersHead, head >= 0, offset >= 0,
                  interpreterHeadAddress >= UInt64(head) else { return nil }
            let (sum, overflow) = (interpreterHeadAddress - UInt64(head)).addingReportingOverflow(UInt64(offset))
            guard !overflow else { return nil }
            address = sum
            interpreterPointer = nil
        case .currentThreadState:
            guard let currentThreadState, currentThreadState != 0 else { return nil }
            address = currentThreadState
            interpreterPointer = nil
        case .interpreterPointer(let offset):
            guard offset >= 0, offset <= limit else { return nil }
            address = 0
            interpreterPointer = offset
        }
    }
}
