/// One frame of a merged stack, as a value: what kind of code it is and the
/// fields that identify it. Display text (`qualname (file:line)`,
/// `symbol [module]`, `symbol_[k]`, `COMM (PID)`) is made by the writers
/// that need it (`Output/FrameNaming`), never compared here.
public struct Frame: Hashable, Sendable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case process, thread, kernel, native, python, annotation
    }

    public var kind: Kind
    /// The function: a Python qualname, a native or kernel symbol, a
    /// process's command or a thread's name. Empty for a native address no
    /// symbol covers, and for annotations.
    public var function: String
    /// Python: the code object's file name.
    public var file: String?
    /// Python: the line being run.
    public var line: Int?
    /// Native: the file's name (`libc.so.6`).
    public var module: String?
    /// Native: the address's offset in its module, when no symbol covers it.
    public var offset: UInt64?
    /// Native: the module's GNU build ID in hex, when it has one; pprof's
    /// mappings carry it so a viewer can find the exact binary.
    public var buildID: String?
    /// Process: the pid; thread: the tid.
    public var id: Int32?
    public var annotation: Annotation?

    public init(kind: Kind, function: String, file: String? = nil, line: Int? = nil, module: String? = nil,
                offset: UInt64? = nil, buildID: String? = nil, id: Int32? = nil, annotation: Annotation? = nil) {
        self.kind = kind
        self.function = function
        self.file = file
        self.line = line
        self.module = module
        self.offset = offset
        self.buildID = buildID
        self.id = id
        self.annotation = annotation
    }

    public static func process(comm: String, pid: Int32) -> Frame {
        Frame(kind: .process, function: comm, id: pid)
    }

    public static func thread(name: String, tid: Int32) -> Frame {
        Frame(kind: .thread, function: name, id: tid)
    }

    public static func kernel(symbol: String) -> Frame {
        Frame(kind: .kernel, function: symbol)
    }

    /// A native function, with the file it lies in when known.
    public static func native(symbol: String, module: String?, buildID: String? = nil) -> Frame {
        Frame(kind: .native, function: symbol, module: module.flatMap { $0.isEmpty ? nil : $0 }, buildID: buildID)
    }

    /// A native address that no symbol covers, named by its place in its file.
    public static func unsymbolized(module: String, offset: UInt64, buildID: String? = nil) -> Frame {
        Frame(kind: .native, function: "", module: module, offset: offset, buildID: buildID)
    }

    /// A Python function; a frame without a file is one whose code object
    /// gave only a name.
    public static func python(function: String, file: String? = nil, line: Int? = nil) -> Frame {
        Frame(kind: .python, function: function, file: file, line: line)
    }

    public static func annotation(_ annotation: Annotation) -> Frame {
        Frame(kind: .annotation, function: "", annotation: annotation)
    }
}
