/// CPython 3.11 and 3.12: interpreter frames (`_PyInterpreterFrame`) on a
/// per-thread stack, reached through the thread state's `cframe`. One
/// eval-loop call runs several Python frames; the walker marks where each
/// call's frames end (`is_entry` on 3.11, the C-stack shim frame, owner 3,
/// from 3.12). Layouts come from a table per version, checked in
/// PythonLayoutTableTests against the installed headers. Line tables: the
/// 3.11+ location table.
public struct InterpreterFrameFamily: PythonRuntimeFamily {
    public init() {}

    public var name: String { "interpreter frames (3.11, 3.12)" }

    public var evalLoopSymbols: Set<String> { ["_PyEval_EvalFrameDefault", "_PyEval_EvalFrameDefault.cold"] }

    public var invocationBoundary: PythonInvocationBoundary { .walkerMarkers }

    public func resolve(_ interpreter: PythonInterpreterFacts) -> PythonLayoutResolution? {
        guard let version = interpreter.version, let layout = Self.layout(for: version) else { return nil }
        return .layout(layout, version: version)
    }

    public static func layout(for version: PythonVersion) -> PythonLayout? {
        switch (version.major, version.minor) {
        case (3, 11): return python311.with(gil: GILLayout(place: .runtime(offset: 360)))
        // 3.12: each interpreter's ceval.gil points to its GIL.
        case (3, 12): return python312.with(gil: GILLayout(place: .interpreterPointer(offset: 384)))
        default: return nil
        }
    }

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
