/// What the loader reads from one code object to name its frames.
public struct CodeObject: Equatable, Sendable {
    /// co_qualname on 3.11+, co_name before.
    public var name: String
    public var filename: String
    public var firstLine: Int
    public var lineTable: [UInt8]
    /// co_version (3.12+) or co_firstlineno: what the BPF walker read as
    /// the frame's stamp, to detect a reused address.
    public var stamp: UInt32

    /// The line being executed, or the first line when the table has none
    /// for this instruction.
    public func line(at instruction: Int, layout: PythonLayout) -> Int {
        LineTable.line(for: instruction, firstLine: firstLine, table: lineTable, layout: layout) ?? firstLine
    }
}
