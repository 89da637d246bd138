import CPyrograph

/// Everything pyrograph needs to know about one CPython version's memory
/// layout: the part the BPF walker uses (mirrored into
/// `pyro_python_layout`) and the part the loader uses to name code objects.
///
/// Offsets are bytes on x86_64. `nil` marks a field the version lacks.
public struct PythonLayout: Equatable, Sendable {
    // Where the interpreter list starts.
    /// Offset of `interpreters.head` in `_PyRuntime`; nil for 2.7 and 3.6,
    /// which keep the list in the static `interp_head`.
    public var runtimeInterpretersHead: Int?
    public var interpreterThreadsHead: Int

    // Thread state.
    public var threadNext: Int
    public var threadID: Int
    /// The top frame, or the `cframe` pointer on 3.11 and 3.12.
    public var threadFrame: Int
    public var cframeCurrentFrame: Int?

    // Frames.
    public var framePrevious: Int
    public var frameCode: Int
    public var frameInstruction: Int
    public var instructionIsPointer: Bool
    public var frameIsEntry: Int?
    public var frameOwner: Int?

    // Code objects.
    public var codeFilename: Int
    public var codeName: Int
    public var codeQualname: Int?
    public var codeFirstLineNumber: Int
    public var codeLineTable: Int
    public var codeAdaptive: Int?
    public var codeVersion: Int?

    public var lineTableFormat: LineTableFormat
    public var strings: StringLayout
    /// Where objects keep their header fields; a free-threaded build's
    /// header is 16 bytes longer.
    public var objects = ObjectLayout()

    // What the walker does not handle yet (3.14+); a layout that needs them
    // is refused by `PythonWalkerSupport`.
    /// Low bits of a frame's executable that tag a `_PyStackRef` (3.14+).
    public var frameExecutableTagBits: UInt64 = 0
    /// The thread state's embedded base frame that ends its chain (3.15+).
    public var threadBaseFrame: Int? = nil
    /// Free-threaded builds: the frame's index of the per-thread bytecode
    /// copy (`co_tlbc`) its instruction pointer points into.
    public var frameTLBCIndex: Int? = nil
    /// Free-threaded builds: `co_tlbc`, the code object's array of bytecode
    /// copies (`_PyCodeArray *`: size, then the entries).
    public var codeTLBC: Int? = nil

    /// Where the GIL lies and which of its fields say who holds it, for
    /// `record --gil` and `GILState`; nil where pyrograph cannot read it
    /// (2.7 and 3.6 keep it in separate statics; free-threaded builds).
    public var gil: GILLayout? = nil

    /// The fields of `str` and `bytes` objects the loader reads, and where
    /// every object keeps its type.
    public struct ObjectLayout: Equatable, Sendable {
        public var objectType = 8
        public var unicodeLength = 16
        public var unicodeState = 32
        /// How far above a GIL build's places the state's kind, compact and
        /// ascii bits sit: 6 on free-threaded 3.14+, whose `interned` is a
        /// whole byte instead of 2 bits.
        public var unicodeStateShift = 0
        public var bytesSize = 16
        public var bytesData = 32

        public init() {}
    }

    public enum LineTableFormat: Sendable, Equatable {
        /// co_lnotab, f_lasti in bytes (up to 3.9).
        case lnotab
        /// 3.10 co_linetable, f_lasti in code units.
        case linetable310
        /// 3.11+ location table, instruction index in code units.
        case locationTable
    }

    public enum StringLayout: Sendable, Equatable {
        /// 2.7 `str`: size at 16, bytes at 36.
        case python2Bytes
        /// 3.x compact unicode: data after PyASCIIObject (48) or
        /// PyCompactUnicodeObject (72) up to 3.11.
        case unicode(asciiData: Int, compactData: Int)
    }

    /// Bytes at the start of a frame that hold every field the BPF walker
    /// reads from it, which it reads in one go.
    public var frameWindow: Int {
        let ends = [framePrevious + 8, frameCode + 8, frameInstruction + (instructionIsPointer ? 8 : 4),
                    (frameIsEntry ?? 0) + 1, (frameOwner ?? 0) + 1, (frameTLBCIndex ?? 0) + 4]
        return (ends.max()! + 7) & ~7
    }

    /// This layout with the version's GIL.
    func with(gil: GILLayout) -> PythonLayout {
        var layout = self
        layout.gil = gil
        return layout
    }

    /// Bytes at the start of a code object that hold every field naming
    /// reads, which the kernel copies at sample time (pyro_code_capture);
    /// nil when they do not fit the capture.
    public var codeCaptureBytes: Int? {
        let ends = [codeFilename + 8, (codeQualname ?? codeName) + 8, codeLineTable + 8, codeFirstLineNumber + 4,
                    (codeVersion ?? 0) + 4, objects.objectType + 8]
        let bytes = (ends.max()! + 7) & ~7
        let aligned = [codeFilename, codeQualname ?? codeName, codeLineTable].allSatisfy { $0 % 8 == 0 }
        return aligned && bytes <= Int(PYRO_CAPTURE_CODE_BYTES) ? bytes : nil
    }

    /// The `bytes` object holding a line table: size at 16, data at 32 on
    /// 3.x; on 2.7 it is a `str` (data at 36).
    public var lineTableDataOffset: Int {
        if case .python2Bytes = strings { return 36 }
        return objects.bytesData
    }
}
