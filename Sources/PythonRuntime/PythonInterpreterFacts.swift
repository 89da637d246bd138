import ProcessInspection

/// What the detector learnt about an interpreter before a family reads its
/// layout: its memory, where its runtime state lies, and its version as the
/// interpreter's data says (read only when a family asks).
public final class PythonInterpreterFacts {
    public let memory: MemoryReader
    /// `_PyRuntime`, relocated; nil before 3.7 or when not found.
    public let runtimeAddress: UInt64?
    /// The static `interp_head` (2.7, 3.6), relocated.
    public let interpreterHeadSymbol: UInt64?
    public let interpreterPath: String
    private let readVersion: () -> PythonVersion?

    public init(memory: MemoryReader, runtimeAddress: UInt64?, interpreterHeadSymbol: UInt64?,
                interpreterPath: String, version: @escaping () -> PythonVersion?) {
        self.memory = memory
        self.runtimeAddress = runtimeAddress
        self.interpreterHeadSymbol = interpreterHeadSymbol
        self.interpreterPath = interpreterPath
        self.readVersion = version
    }

    /// From `Py_Version`, `Py_GetVersion()`'s buffer or the binary, in
    /// that order; read once.
    public private(set) lazy var version: PythonVersion? = readVersion()

    /// Address of the pointer to the first interpreter: in `_PyRuntime` when
    /// the layout places the list there, else the static `interp_head`.
    public func interpreterHeadAddress(for layout: PythonLayout) -> Result<UInt64, PythonRuntimeRefusal> {
        if let offset = layout.runtimeInterpretersHead {
            guard let runtimeAddress else { return .failure(.runtimeNotFound(path: interpreterPath)) }
            return .success(runtimeAddress + UInt64(offset))
        }
        guard let interpreterHeadSymbol else { return .failure(.interpreterHeadNotFound) }
        return .success(interpreterHeadSymbol)
    }
}
