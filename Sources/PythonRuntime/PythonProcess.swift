/// A process running CPython, as far as pyrograph can tell from outside.
public struct PythonProcess: Sendable {
    public enum BuildKind: String, Sendable {
        /// The interpreter is linked into the executable.
        case `static`
        /// The interpreter lives in libpythonX.Y.so.
        case shared
    }

    public var pid: Int32
    public var version: PythonVersion?
    public var buildKind: BuildKind
    /// Built with Py_DEBUG (Debian's pythonX.Y-dbg): its objects and
    /// frames may be laid out differently from the release build of the
    /// same version, so it is told apart wherever builds are counted.
    public var isDebugBuild = false
    /// The file holding the interpreter, as the process sees it.
    public var interpreterPath: String
    public var layout: PythonLayout?
    /// Address of the pointer to the first PyInterpreterState.
    public var interpreterHeadAddress: UInt64
    /// Why pyrograph cannot read this interpreter's stacks, if it cannot.
    public var refusal: PythonRuntimeRefusal?
    /// The version family that read (or refused) its layout.
    public var family: (any PythonRuntimeFamily)?
    /// `_PyThreadState_Current`, relocated (2.7 and 3.6 export it): the
    /// state of the thread holding the GIL there.
    public var currentThreadStateAddress: UInt64?
    /// `PyCode_Type`, relocated, where the interpreter exports it.
    public var codeTypeAddress: UInt64?
    /// Parts of the eval loop no symbol names (a stripped build's
    /// `_PyEval_EvalFrameDefault.cold`), as addresses in the interpreter
    /// file's own address space.
    public var unnamedEvalLoopParts: [Range<UInt64>] = []
    /// Where to catch later processes of the same interpreter file as they
    /// start it, when the file defines an initialization function.
    public var startProbe: PythonStartProbe?

    /// A native frame in one of those parts.
    public func isUnnamedEvalLoop(module: String, fileAddress: UInt64) -> Bool {
        !unnamedEvalLoopParts.isEmpty && module == PythonProcessDetector.baseName(interpreterPath)
            && unnamedEvalLoopParts.contains { $0.contains(fileAddress) }
    }

    public init(pid: Int32, version: PythonVersion?, buildKind: BuildKind, interpreterPath: String,
                layout: PythonLayout?, interpreterHeadAddress: UInt64,
                refusal: PythonRuntimeRefusal? = nil, family: (any PythonRuntimeFamily)? = nil) {
        self.pid = pid
        self.version = version
        self.buildKind = buildKind
        self.interpreterPath = interpreterPath
        self.layout = layout
        self.interpreterHeadAddress = interpreterHeadAddress
        self.refusal = refusal
        self.family = family
    }

    public var unsupportedReason: String? { refusal?.description }

    /// "static", "shared", then "debug" and "free-threaded" where they
    /// apply (the last from its layout, so only once it is read).
    public var buildDescription: String {
        var words = [buildKind.rawValue]
        if isDebugBuild { words.append("debug") }
        if layout?.frameTLBCIndex != nil || refusal == .freeThreaded { words.append("free-threaded") }
        return words.joined(separator: " ")
    }

    public var isSupported: Bool { refusal == nil && layout != nil }
}
