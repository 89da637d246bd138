/// One frame of a merged stack, already named for display.
///
/// The naming conventions are part of pyrograph's interface: tests, users and
/// tools that read folded output rely on them.
/// - process: `COMM (PID)`
/// - thread: `THREADNAME (TID)`
/// - kernel: `symbol_[k]`, as flamegraph.pl marks kernel frames
/// - native: `symbol [module]`, or `module+0xOFFSET` when no symbol covers it
/// - python: `qualname (file:line)`
/// - annotation: a frame pyrograph adds to say something about the stack,
///   such as why it was truncated: `[truncated: depth exceeded]`
public struct Frame: Hashable, Sendable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case process, thread, kernel, native, python, annotation
    }

    public var kind: Kind
    public var name: String

    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    public static func process(comm: String, pid: Int32) -> Frame {
        Frame(kind: .process, name: "\(comm) (\(pid))")
    }

    public static func thread(name: String, tid: Int32) -> Frame {
        Frame(kind: .thread, name: "\(name) (\(tid))")
    }

    public static func kernel(symbol: String) -> Frame {
        Frame(kind: .kernel, name: symbol + "_[k]")
    }

    /// A native frame: `symbol [module]`, or just `symbol` with no module.
    public static func native(symbol: String, module: String?) -> Frame {
        guard let module, !module.isEmpty else { return Frame(kind: .native, name: symbol) }
        return Frame(kind: .native, name: "\(symbol) [\(module)]")
    }

    /// A native address that no symbol covers, named by its place in its file.
    public static func unsymbolized(module: String, offset: UInt64) -> Frame {
        Frame(kind: .native, name: "\(module)+0x\(String(offset, radix: 16))")
    }

    public static func python(qualname: String, file: String, line: Int) -> Frame {
        Frame(kind: .python, name: "\(qualname) (\(file):\(line))")
    }

    public static func annotation(_ text: String) -> Frame {
        Frame(kind: .annotation, name: "[\(text)]")
    }
}
