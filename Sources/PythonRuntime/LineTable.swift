/// Source line numbers from a code object's line table, computed in user
/// space from the bytes the loader copied out of the target process.
///
/// `instruction` is what the BPF walker reports for a frame:
/// - `.lnotab` (2.7 to 3.9): `f_lasti` in bytes;
/// - `.linetable310` (3.10): `f_lasti` in code units;
/// - `.locationTable` (3.11+): the instruction index in code units.
///
/// A negative instruction (a frame that has not started: `f_lasti == -1`,
/// or `prev_instr` one code unit before the code on 3.11 and 3.12) gives
/// `firstLine`, as the interpreter itself reports. The result is nil when the
/// instruction has no line (3.10 delta -128, 3.11+ code 15), lies past the
/// table's end, or the table is truncated.
public enum LineTable {
    /// The line of `instruction`. `signedLineIncrements` matters only for
    /// `.lnotab`: 3.6+ stores signed increments, 2.7 unsigned ones (pass
    /// false for 2.7, or use `line(for:firstLine:table:layout:)`).
    public static func line(for instruction: Int, firstLine: Int, table: [UInt8],
                            format: PythonLayout.LineTableFormat, signedLineIncrements: Bool = true) -> Int? {
        if instruction < 0 { return firstLine }
        switch format {
        case .lnotab:
            return lnotabLine(byteOffset: instruction, firstLine: firstLine, table: table, signed: signedLineIncrements)
        case .linetable310:
            let (byteOffset, overflow) = instruction.multipliedReportingOverflow(by: 2)
            if overflow { return nil }
            return linetable310Line(byteOffset: byteOffset, firstLine: firstLine, table: table)
        case .locationTable:
            return LocationTableDecoder(table: table, firstLine: firstLine).line(at: instruction)
        }
    }

    /// The line of `instruction` for the version `layout` describes; the
    /// only 2.7 layout is the one with 2.7 strings.
    public static func line(for instruction: Int, firstLine: Int, table: [UInt8], layout: PythonLayout) -> Int? {
        line(for: instruction, firstLine: firstLine, table: table, format: layout.lineTableFormat,
             signedLineIncrements: layout.strings != .python2Bytes)
    }

    /// co_lnotab: pairs (address increment in bytes, line increment). A pair
    /// applies once the address it reaches is at or before the offset. The
    /// table does not record the code's length, so an offset past the end
    /// gets the last line, as the interpreter's own lookup does.
    static func lnotabLine(byteOffset: Int, firstLine: Int, table: [UInt8], signed: Bool) -> Int {
        var line = firstLine
        var address = 0
        var index = 0
        while index + 1 < table.count {
            address += Int(table[index])
            if address > byteOffset { break }
            let increment = table[index + 1]
            line += signed ? Int(Int8(bitPattern: increment)) : Int(increment)
            index += 2
        }
        return line
    }

    /// 3.10 co_linetable: pairs (byte length of a range, signed line delta);
    /// delta -128 marks a range without a line and leaves the running line
    /// as it was. Zero-length ranges only carry line deltas.
    static func linetable310Line(byteOffset: Int, firstLine: Int, table: [UInt8]) -> Int? {
        var line = firstLine
        var start = 0
        var index = 0
        while index + 1 < table.count {
            let end = start + Int(table[index])
            let delta = Int8(bitPattern: table[index + 1])
            let hasLine = delta != -128
            if hasLine { line += Int(delta) }
            if byteOffset < end { return hasLine ? line : nil }
            start = end
            index += 2
        }
        return nil
    }
}
