/// CPython 2.7 and 3.6 to 3.10: a thread state points at its top frame
/// object (`PyFrameObject`), frames chain through `f_back`, and each
/// eval-loop call (`PyEval_EvalFrameEx`, `_PyEval_EvalFrameDefault`) runs
/// one frame. Layouts come from a table per version; each value is checked
/// in PythonLayoutTableTests by compiling offsetof() against the installed
/// headers of that version. Line tables: `co_lnotab` up to 3.9 (unsigned
/// line increments on 2.7), 3.10's `co_linetable`.
public struct FrameObjectFamily: PythonRuntimeFamily {
    public init() {}

    public var name: String { "frame objects (2.7, 3.6 to 3.10)" }

    public var evalLoopSymbols: Set<String> {
        ["PyEval_EvalFrameEx", "_PyEval_EvalFrameDefault", "_PyEval_EvalFrameDefault.cold"]
    }

    public var invocationBoundary: PythonInvocationBoundary { .everyFrame }

    public func resolve(_ interpreter: PythonInterpreterFacts) -> PythonLayoutResolution? {
        guard let version = interpreter.version, let layout = Self.layout(for: version) else { return nil }
        return .layout(layout, version: version)
    }

    public static func layout(for version: PythonVersion) -> PythonLayout? {
        switch (version.major, version.minor) {
        case (2, 7): return python27.with(gil: .currentThreadState)
        case (3, 6): return python36.with(gil: .currentThreadState)
        // The GIL lies in _PyRuntime.ceval.gil, which moves with the fields before it.
        case (3, 7): return python37.with(gil: GILLayout(place: .runtime(offset: 1264)))
        case (3, 8): return python38.with(gil: GILLayout(place: .runtime(offset: 1152)))
        case (3, 9): return python38.with(gil: GILLayout(place: .runtime(offset: 352)))
        case (3, 10): return python310.with(gil: GILLayout(place: .runtime(offset: 352)))
        default: return nil
        }
    }

    static let python27 = PythonLayout(
        runtimeInterpretersHead: nil, interpreterThreadsHead: 8,
        threadNext: 0, threadID: 144, threadFrame: 16, cframeCurrentFrame: nil,
        framePrevious: 24, frameCode: 32, frameInstruction: 120, instructionIsPointer: false,
        frameIsEntry: nil, frameOwner: nil,
        codeFilename: 80, codeName: 88, codeQualname: nil, codeFirstLineNumber: 96, codeLineTable: 104,
        codeAdaptive: nil, codeVersion: nil,
        lineTableFormat: .lnotab, strings: .python2Bytes)

    static let python36 = PythonLayout(
        runtimeInterpretersHead: nil, interpreterThreadsHead: 8,
        threadNext: 8, threadID: 152, threadFrame: 24, cframeCurrentFrame: nil,
        framePrevious: 24, frameCode: 32, frameInstruction: 120, instructionIsPointer: false,
        frameIsEntry: nil, frameOwner: nil,
        codeFilename: 96, codeName: 104, codeQualname: nil, codeFirstLineNumber: 36, codeLineTable: 112,
        codeAdaptive: nil, codeVersion: nil,
        lineTableFormat: .lnotab, strings: .unicode(asciiData: 48, compactData: 72))

    static let python37 = PythonLayout(
        runtimeInterpretersHead: 24, interpreterThreadsHead: 8,
        threadNext: 8, threadID: 176, threadFrame: 24, cframeCurrentFrame: nil,
        framePrevious: 24, frameCode: 32, frameInstruction: 104, instructionIsPointer: false,
        frameIsEntry: nil, frameOwner: nil,
        codeFilename: 96, codeName: 104, codeQualname: nil, codeFirstLineNumber: 36, codeLineTable: 112,
        codeAdaptive: nil, codeVersion: nil,
        lineTableFormat: .lnotab, strings: .unicode(asciiData: 48, compactData: 72))

    static let python38 = PythonLayout(
        runtimeInterpretersHead: 32, interpreterThreadsHead: 8,
        threadNext: 8, threadID: 176, threadFrame: 24, cframeCurrentFrame: nil,
        framePrevious: 24, frameCode: 32, frameInstruction: 104, instructionIsPointer: false,
        frameIsEntry: nil, frameOwner: nil,
        codeFilename: 104, codeName: 112, codeQualname: nil, codeFirstLineNumber: 40, codeLineTable: 120,
        codeAdaptive: nil, codeVersion: nil,
        lineTableFormat: .lnotab, strings: .unicode(asciiData: 48, compactData: 72))

    static let python310 = PythonLayout(
        runtimeInterpretersHead: 32, interpreterThreadsHead: 8,
        threadNext: 8, threadID: 176, threadFrame: 24, cframeCurrentFrame: nil,
        framePrevious: 24, frameCode: 32, frameInstruction: 96, instructionIsPointer: false,
        frameIsEntry: nil, frameOwner: nil,
        codeFilename: 104, codeName: 112, codeQualname: nil, codeFirstLineNumber: 40, codeLineTable: 120,
        codeAdaptive: nil, codeVersion: nil,
        lineTableFormat: .linetable310, strings: .unicode(asciiData: 48, compactData: 72))
}
