import Aggregation

/// A function as `top` ranks it: Python by qualname and file (its lines
/// merged, as `report` does), native by symbol and module, kernel by
/// symbol; within one process.
public struct TopFunction: Hashable, Sendable {
    public var pid: Int32
    /// The process's command, as the session named it.
    public var comm: String
    public var kind: Frame.Kind
    public var name: String
    /// Python: the file; native: the module.
    public var place: String?
    /// A native address no symbol covers: its offset in `place`.
    public var offset: UInt64?

    public init(pid: Int32, comm: String, kind: Frame.Kind, name: String, place: String? = nil, offset: UInt64? = nil) {
        self.pid = pid
        self.comm = comm
        self.kind = kind
        self.name = name
        self.place = place
        self.offset = offset
    }

    init(_ frame: Frame, in process: Frame) {
        self.init(pid: process.id ?? 0, comm: process.function, kind: frame.kind, name: frame.function,
                  place: frame.kind == .python ? frame.file : frame.module, offset: frame.offset)
    }

    /// The frames `top` ranks in a stack, root first: its Python frames when
    /// it has any (the interpreter's own C frames between them say nothing a
    /// Python programmer can act on), else its native and kernel frames.
    /// Annotations (`[off-cpu: ...]`, `[python frame unreadable]`) are never
    /// functions.
    static func ranked(_ frames: [Frame]) -> [Frame] {
        let python = frames.filter { $0.kind == .python }
        if !python.isEmpty { return python }
        return frames.filter { $0.kind == .native || $0.kind == .kernel }
    }
}
