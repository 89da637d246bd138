/// CPython 3.13 and newer: interpreter frames, like 3.11 and 3.12, but hung
/// straight off the thread state (`current_frame`), and every offset comes
/// from the interpreter's own `_Py_DebugOffsets`, read whole at the start of
/// `_PyRuntime` through the field positions of its struct version
/// (`DebugOffsets`). Each section the layout uses has its size checked and
/// each field checked to lie inside it; an unknown struct version or
/// implausible values are refused, never guessed. The walker marks
/// eval-loop boundaries at shim frames; line tables are location tables.
public struct DebugOffsetsFamily: PythonRuntimeFamily {
    public init() {}

    public var name: String { "_Py_DebugOffsets (3.13 and newer)" }

    public var evalLoopSymbols: Set<String> { ["_PyEval_EvalFrameDefault", "_PyEval_EvalFrameDefault.cold"] }

    public var invocationBoundary: PythonInvocationBoundary { .walkerMarkers }

    /// The layout is the build's own, debug builds included.
    public var readsDebugBuilds: Bool { true }

    /// Facts the struct does not carry, true of every struct version known:
    /// `co_version` sits after five ints that follow `co_firstlineno`
    /// (3.12: 68 and 92; checked against 3.13's headers too), and
    /// `PyCompactUnicodeObject` adds `utf8_length` and `utf8` (16 bytes) to
    /// `PyASCIIObject` where the struct has no `compactunicodeobject_size`.
    static let codeVersionAfterFirstLine = 24
    static let compactUnicodeExtra = 16
    /// Free-threaded 3.14+ make `interned` a byte: kind, compact and ascii
    /// move from bits 2, 5, 6 to 8, 11, 12 (measured with offsetof against
    /// the 3.14 and 3.15 headers compiled with Py_GIL_DISABLED).
    static let freeThreadedStateShift = 6
    /// Mask CPython's own remote unwinder clears from a `_PyStackRef`.
    static let stackRefTagBits: UInt64 = 3
    /// A section bigger than this is garbage (`_PyRuntimeState`, the largest,
    /// is a few hundred KiB).
    static let sectionSizeLimit: UInt64 = 1 << 24

    public func resolve(_ interpreter: PythonInterpreterFacts) -> PythonLayoutResolution? {
        guard let runtime = interpreter.runtimeAddress,
              let headerBytes = interpreter.memory.bytes(runtime, count: DebugOffsets.headerSize),
              let header = DebugOffsets.header(headerBytes)
        else {
            // Every 3.13+ has the table: one that does not show it was not
            // found or not read whole, which is not "no layout for it".
            guard let version = interpreter.version, (version.major, version.minor) >= (3, 13) else { return nil }
            let refusal: PythonRuntimeRefusal = interpreter.runtimeAddress == nil
                ? .runtimeNotFound(path: interpreter.interpreterPath) : .debugOffsetsNotFound(version)
            return .refused(refusal, version: version)
        }
        let version = header.version
        // 3.13's free-threaded strings are not described by its headers here.
        if header.freeThreaded && (version.major, version.minor) < (3, 14) {
            return .refused(.freeThreaded, version: version)
        }
        guard let structVersion = DebugOffsets.structVersion(forVersionHex: header.versionHex) else {
            return .refused(.unknownDebugOffsets(version), version: version)
        }
        guard let bytes = interpreter.memory.bytes(runtime, count: structVersion.size),
              let offsets = DebugOffsets(bytes, structVersion: structVersion)
        else {
            return .refused(.implausibleDebugOffsets(version, "its \(structVersion.size) bytes are unreadable"), version: version)
        }
        switch Self.layout(from: offsets) {
        case .success(let layout): return .layout(layout, version: version)
        case .failure(let refusal): return .refused(refusal, version: version)
        }
    }

    /// The layout a table describes, every field checked against its section.
    public static func layout(from offsets: DebugOffsets) -> Result<PythonLayout, PythonRuntimeRefusal> {
        var fields = CheckedFields(offsets)
        let runtimeInterpretersHead = fields.offset("runtime_state", "interpreters_head", width: 8)
        let interpreterThreadsHead = fields.offset("interpreter_state", "threads_head", width: 8)
        let threadNext = fields.offset("thread_state", "next", width: 8)
        let threadID = fields.offset("thread_state", "thread_id", width: 8)
        let threadFrame = fields.offset("thread_state", "current_frame", width: 8)
        let threadBaseFrame = fields.optionalOffset("thread_state", "base_frame", width: 8)
        let framePrevious = fields.offset("interpreter_frame", "previous", width: 8)
        let frameCode = fields.offset("interpreter_frame", "executable", width: 8)
        let frameInstruction = fields.offset("interpreter_frame", "instr_ptr", width: 8)
        let frameOwner = fields.offset("interpreter_frame", "owner", width: 1)
        let codeFilename = fields.offset("code_object", "filename", width: 8)
        let codeName = fields.offset("code_object", "name", width: 8)
        let codeQualname = fields.offset("code_object", "qualname", width: 8)
        let codeLineTable = fields.offset("code_object", "linetable", width: 8)
        let codeFirstLine = fields.offset("code_object", "firstlineno", width: 4)
        let codeVersion = codeFirstLine + codeVersionAfterFirstLine
        fields.require("code_object", at: codeVersion, width: 4, what: "co_version")
        let codeAdaptive = fields.offset("code_object", "co_code_adaptive", width: 1)
        let asciiData = fields.offset("unicode_object", "asciiobject_size", width: 0)
        let compactData = fields.optionalOffset("unicode_object", "compactunicodeobject_size", width: 0)
            ?? asciiData + compactUnicodeExtra
        var objects = PythonLayout.ObjectLayout()
        objects.objectType = fields.offset("pyobject", "ob_type", width: 8)
        objects.unicodeLength = fields.offset("unicode_object", "length", width: 8)
        objects.unicodeState = fields.offset("unicode_object", "state", width: 4)
        objects.unicodeStateShift = offsets.header.freeThreaded ? freeThreadedStateShift : 0
        objects.bytesSize = fields.offset("bytes_object", "ob_size", width: 8)
        objects.bytesData = fields.offset("bytes_object", "ob_sval", width: 0)
        let frameTLBCIndex = offsets.header.freeThreaded
            ? fields.optionalOffset("interpreter_frame", "tlbc_index", width: 4) : nil
        let codeTLBC = offsets.header.freeThreaded ? fields.optionalOffset("code_object", "co_tlbc", width: 8) : nil
        // Free-threaded builds run without the GIL (or with one enabled on
        // demand); --gil reads only the GIL builds'.
        let gil = offsets.header.freeThreaded ? nil : fields.gil()
        if let problem = fields.problem {
            return .failure(.implausibleDebugOffsets(offsets.header.version, problem))
        }
        var layout = PythonLayout(
            runtimeInterpretersHead: runtimeInterpretersHead, interpreterThreadsHead: interpreterThreadsHead,
            threadNext: threadNext, threadID: threadID, threadFrame: threadFrame, cframeCurrentFrame: nil,
            framePrevious: framePrevious, frameCode: frameCode, frameInstruction: frameInstruction,
            instructionIsPointer: true, frameIsEntry: nil, frameOwner: frameOwner,
            codeFilename: codeFilename, codeName: codeName, codeQualname: codeQualname,
            codeFirstLineNumber: codeFirstLine, codeLineTable: codeLineTable, codeAdaptive: codeAdaptive,
            codeVersion: codeVersion,
            lineTableFormat: .locationTable,
            strings: .unicode(asciiData: asciiData, compactData: compactData))
        // From 3.14 a frame's executable is a _PyStackRef (the struct
        // announces it with stackpointer and tlbc_index beside it).
        if offsets.structVersion.position("interpreter_frame", "tlbc_index") != nil {
            layout.frameExecutableTagBits = stackRefTagBits
        }
        layout.threadBaseFrame = threadBaseFrame
        layout.objects = objects
        // Free-threaded builds run per-thread copies of the bytecode: the
        // frame's tlbc_index picks the copy its instr_ptr points into.
        layout.frameTLBCIndex = frameTLBCIndex
        layout.codeTLBC = codeTLBC
        layout.gil = gil
        return .success(layout)
    }

    /// Reads offsets from the table, noting the first that cannot be right.
    struct CheckedFields {
        let offsets: DebugOffsets
        private(set) var problem: String?

        init(_ offsets: DebugOffsets) { self.offsets = offsets }

        mutating func offset(_ section: String, _ field: String, width: Int) -> Int {
            guard let value = offsets.value(section, field) else {
                fail("\(section).\(field) is missing from struct version \(offsets.structVersion.name)")
                return 0
            }
            require(section, at: value, width: width, what: "\(section).\(field)")
            return problem == nil ? Int(value) : 0
        }

        /// The interpreter's GIL: `ceval_gil` points to it; `locked` and
        /// `holder` are given inside the interpreter's own `_gil`
        /// (`gil_runtime_state`), so relative to it they are the struct's.
        mutating func gil() -> GILLayout? {
            guard let pointer = optionalOffset("interpreter_state", "ceval_gil", width: 8),
                  let embedded = optionalOffset("interpreter_state", "gil_runtime_state", width: 0),
                  let locked = optionalOffset("interpreter_state", "gil_runtime_state_locked", width: 4),
                  let holder = optionalOffset("interpreter_state", "gil_runtime_state_holder", width: 8),
                  locked >= embedded, holder >= embedded,
                  locked + 4 - embedded <= GILLayout.structSize, holder + 8 - embedded <= GILLayout.structSize
            else { return nil }
            return GILLayout(place: .interpreterPointer(offset: pointer), locked: locked - embedded,
                             lastHolder: holder - embedded)
        }

        mutating func optionalOffset(_ section: String, _ field: String, width: Int) -> Int? {
            offsets.value(section, field) == nil ? nil : offset(section, field, width: width)
        }

        /// `width` bytes at `at` lie inside the section, whose size is sane.
        mutating func require<T: BinaryInteger>(_ section: String, at: T, width: Int, what: String) {
            guard problem == nil else { return }
            guard let size = offsets.value(section, "size"), size > 0, size <= DebugOffsetsFamily.sectionSizeLimit else {
                fail("\(section).size is \(offsets.value(section, "size").map(String.init) ?? "missing")")
                return
            }
            guard at >= 0, UInt64(at) <= DebugOffsetsFamily.sectionSizeLimit, UInt64(at) + UInt64(width) <= size else {
                fail("\(what) = \(at) lies outside \(section).size \(size)")
                return
            }
        }

        private mutating func fail(_ detail: String) {
            if problem == nil { problem = detail }
        }
    }
}
