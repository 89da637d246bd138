import CPyrograph
import PythonRuntime

extension pyro_python_layout {
    /// The walker's view of a detected interpreter.
    init(_ process: PythonProcess, _ layout: PythonLayout) {
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
    }
}
