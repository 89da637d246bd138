/// Per-version layouts for the interpreters that predate `_Py_DebugOffsets`
/// (2.7, 3.6 to 3.12). Each value is checked in PythonLayoutTableTests by
/// compiling offsetof() against the installed headers of that version.
public enum PythonLayoutTable {
    public static func layout(for version: PythonVersion) -> PythonLayout? {
        switch (version.major, version.minor) {
        case (2, 7): return python27
        case (3, 6): return python36
        case (3, 7): return python37
        case (3, 8), (3, 9): return python38
        case (3, 10): return python310
        case (3, 11): return python311
        case (3, 12): return python312
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

    static let python311 = PythonLayout(
        runtimeInterpretersHead: 40, interpreterThreadsHead: 16,
        threadNext: 8, threadID: 152, threadFrame: 56, cframeCurrentFrame: 8,
        framePrevious: 48, frameCode: 32, frameInstruction: 56, instructionIsPointer: true,
        frameIsEntry: 68, frameOwner: nil,
        codeFilename: 112, codeName: 120, codeQualname: 128, codeFirstLineNumber: 72, codeLineTable: 136,
        codeAdaptive: 184, codeVersion: nil,
        lineTableFormat: .locationTable, strings: .unicode(asciiData: 48, compactData: 72))

    static let python312 = PythonLayout(
        runtimeInterpretersHead: 40, interpreterThreadsHead: 72,
        threadNext: 8, threadID: 136, threadFrame: 56, cframeCurrentFrame: 0,
        framePrevious: 8, frameCode: 0, frameInstruction: 56, instructionIsPointer: true,
        frameIsEntry: nil, frameOwner: 70,
        codeFilename: 112, codeName: 120, codeQualname: 128, codeFirstLineNumber: 68, codeLineTable: 136,
        codeAdaptive: 192, codeVersion: 92,
        lineTableFormat: .locationTable, strings: .unicode(asciiData: 40, compactData: 56))
}
