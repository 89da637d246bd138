import PythonRuntime

/// Input: byte 0 the format (0 lnotab, 1 3.10 linetable, 2 location
/// table; bit 7: unsigned lnotab increments, as 2.7), the instruction
/// (i32), the first line (i32), then the table.
enum LineTableFuzz {
    static func run(_ input: UnsafeRawBufferPointer) {
        var cursor = InputCursor(input)
        let selector = cursor.integer(UInt8.self)
        let formats: [PythonLayout.LineTableFormat] = [.lnotab, .linetable310, .locationTable]
        let format = formats[Int(selector & 0x7f) % formats.count]
        let instruction = Int(cursor.integer(Int32.self))
        let firstLine = Int(cursor.integer(Int32.self))
        let table = Array(cursor.remaining)
        for candidate in [instruction, 0, instruction / 2, table.count] {
            _ = LineTable.line(for: candidate, firstLine: firstLine, table: table, format: format,
                               signedLineIncrements: selector & 0x80 == 0)
        }
    }
}
