import CPyrograph

/// One family of CPython versions: interpreters whose stacks are laid out,
/// walked and named the same way. A family owns
/// - how the layout of an interpreter is found (a table per version, or the
///   interpreter's own `_Py_DebugOffsets`) and why one is refused;
/// - the layout's encoding for the BPF walker (`pyro_python_layout`);
/// - the native functions that run its Python frames (eval loops);
/// - how a sample's Python frames split into eval-loop invocations;
/// - its line-table format (set in the layouts it builds).
///
/// A new family is one new file in this folder and one line in
/// `PythonRuntimeFamilies.all`.
public protocol PythonRuntimeFamily: Sendable {
    /// For people: "frame objects (2.7, 3.6 to 3.10)".
    var name: String { get }

    /// The interpreter's layout, or why it cannot be read; nil when the
    /// interpreter is not of this family.
    func resolve(_ interpreter: PythonInterpreterFacts) -> PythonLayoutResolution?

    /// Native functions that run this family's Python frames: where a Python
    /// stack joins the native one.
    var evalLoopSymbols: Set<String> { get }
    func isEvalLoop(_ symbol: String) -> Bool

    /// How a sample's Python frames split into eval-loop invocations.
    var invocationBoundary: PythonInvocationBoundary { get }

    /// Whether its layouts hold for debug (Py_DEBUG) builds too: true when
    /// the layout comes from the interpreter itself.
    var readsDebugBuilds: Bool { get }

    /// The walker's view of a detected interpreter of this family.
    func walkerLayout(_ process: PythonProcess, _ layout: PythonLayout) -> pyro_python_layout
}

extension PythonRuntimeFamily {
    public func isEvalLoop(_ symbol: String) -> Bool { evalLoopSymbols.contains(symbol) }

    public var readsDebugBuilds: Bool { false }

    public func walkerLayout(_ process: PythonProcess, _ layout: PythonLayout) -> pyro_python_layout {
        pyro_python_layout(process, layout)
    }
}

/// Every family, asked in this order: the first that recognises an
/// interpreter decides (a `_Py_DebugOffsets` table wins over a version table).
public enum PythonRuntimeFamilies {
    public static let all: [any PythonRuntimeFamily] = [
        DebugOffsetsFamily(),
        InterpreterFrameFamily(),
        FrameObjectFamily(),
    ]
}

/// Where one eval-loop call's Python frames end.
public enum PythonInvocationBoundary: Sendable, Equatable {
    /// Each eval-loop call runs exactly one Python frame (up to 3.10).
    case everyFrame
    /// One eval-loop call runs frames up to a marker the walker emits (an
    /// entry frame on 3.11, a shim frame from 3.12).
    case walkerMarkers
}

/// What a family found for one interpreter.
public enum PythonLayoutResolution: Sendable {
    case layout(PythonLayout, version: PythonVersion)
    case refused(PythonRuntimeRefusal, version: PythonVersion?)
}
