import CPyrograph

extension pyro_python_layout {
    /// The walker's view of a detected interpreter. Every offset must have
    /// passed `PythonWalkerSupport.refusal(for:version:)`.
    public init(_ process: PythonProcess, _ layout: PythonLayout) {
        func offset(_ value: Int?) -> UInt16 { value.map { UInt16($0) } ?? UInt16(PYRO_NO_OFFSET) }
        self.init()
        interpreter_head_address = process.interpreterHeadAddress
        version_hex = process.version?.hex ?? 0
        interpreter_threads_head = offset(layout.interpreterThreadsHead)
        thread_next = offset(layout.threadNext)
        thread_id = offset(layout.threadID)
        thread_frame = offset(layout.threadFrame)
        cframe_current_frame = offset(layout.cframeCurrentFrame)
        frame_previous = offset(layout.framePrevious)
        frame_code = offset(layout.frameCode)
        frame_instruction = offset(layout.frameInstruction)
        frame_is_entry = offset(layout.frameIsEntry)
        frame_owner = offset(layout.frameOwner)
        code_stamp = offset(layout.codeVersion ?? layout.codeFirstLineNumber)
        code_adaptive = offset(layout.codeAdaptive ?? 0)
        instruction_is_pointer = layout.instructionIsPointer ? 1 : 0
        stamp_is_version = layout.codeVersion != nil ? 1 : 0
        frame_window = UInt16(layout.frameWindow)
        executable_tag_bits = UInt8(truncatingIfNeeded: layout.frameExecutableTagBits)
        frame_tlbc_index = offset(layout.frameTLBCIndex)
        code_tlbc = offset(layout.codeTLBC)
        gil_locked = UInt16(PYRO_NO_OFFSET)
        interpreter_gil = UInt16(PYRO_NO_OFFSET)
        if let gil = layout.gil, let fields = GILFields(gil, layout, interpreterHeadAddress: process.interpreterHeadAddress,
                                                        currentThreadState: process.currentThreadStateAddress) {
            gil_address = fields.address
            interpreter_gil = offset(fields.interpreterPointer)
            gil_locked = gil.locked.map { UInt16($0) } ?? UInt16(PYRO_GIL_HELD_BY_HOLDER)
            gil_last_holder = UInt16(gil.lastHolder)
            gil_size = UInt16(gil.size)
        }
        object_type = UInt8(truncatingIfNeeded: layout.objects.objectType)
        code_type_address = process.codeTypeAddress ?? 0
        code_filename = offset(layout.codeFilename)
        code_name = offset(layout.codeQualname ?? layout.codeName)
        code_line_table = offset(layout.codeLineTable)
        code_capture_bytes = UInt16(layout.codeCaptureBytes ?? 0)
    }
}

/// What the BPF walker (`bpf/python_walker.bpf.h`) can read: a layout that
/// needs more is refused, with the reason, before it reaches the kernel.
public enum PythonWalkerSupport {
    /// The walker clears a frame executable's tag bits (up to these).
    static let untaggableBits: UInt64 = 0xff
    /// 3.15's base frame, owned by the interpreter and with a NULL
    /// `previous`, ends the walk like any entry frame.
    static let knowsBaseFrames = true

    public static func refusal(for layout: PythonLayout, version: PythonVersion) -> PythonRuntimeRefusal? {
        if layout.frameExecutableTagBits & ~untaggableBits != 0 {
            return .walkerCannotRead(version, "frames hold their code object as a tagged _PyStackRef")
        }
        if (layout.frameTLBCIndex == nil) != (layout.codeTLBC == nil) {
            return .walkerCannotRead(version, "a frame's tlbc_index comes without the code object's co_tlbc")
        }
        if layout.threadBaseFrame != nil && !knowsBaseFrames {
            return .walkerCannotRead(version, "each thread's frames end at a base frame inside its thread state")
        }
        let walked: [Int?] = [
            layout.interpreterThreadsHead, layout.threadNext, layout.threadID, layout.threadFrame,
            layout.cframeCurrentFrame, layout.framePrevious, layout.frameCode, layout.frameInstruction,
            layout.frameIsEntry, layout.frameOwner, layout.codeVersion ?? layout.codeFirstLineNumber, layout.codeAdaptive,
            layout.frameTLBCIndex, layout.codeTLBC,
        ]
        if let far = walked.compactMap({ $0 }).first(where: { $0 < 0 || $0 >= Int(PYRO_NO_OFFSET) }) {
            return .walkerCannotRead(version, "an offset of \(far) bytes does not fit the walker's 16-bit offsets")
        }
        if layout.objects.objectType > Int(UInt8.max) {
            return .walkerCannotRead(version, "an object's ob_type lies past the walker's 8-bit offset")
        }
        if layout.frameWindow > Int(PYRO_MAX_FRAME_WINDOW) { return .frameWindowTooLarge(version) }
        return nil
    }
}
