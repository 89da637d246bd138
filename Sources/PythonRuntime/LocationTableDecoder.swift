/// Reads a 3.11+ location table (`co_linetable`) entry by entry.
///
/// Each entry starts with a header byte `1CCCCLLL` and covers `LLL + 1` code
/// units. The code `CCCC` says what follows:
/// - 0 to 9: the previous line, one column byte follows;
/// - 10 to 12: line delta `code - 10`, two column bytes follow;
/// - 13: a signed varint line delta, no columns;
/// - 14: a signed varint line delta, then end-line delta, column and end
///   column as three unsigned varints;
/// - 15: no location; the running line is unchanged.
///
/// Varints are little-endian 6-bit chunks; 0x40 marks that another chunk
/// follows. A signed varint keeps its sign in the lowest bit.
struct LocationTableDecoder {
    let table: [UInt8]
    let firstLine: Int

    private static let noLocation = 15
    private static let longForm = 14
    private static let noColumns = 13
    private static let oneLineFirst = 10

    /// The line of the code unit at `index`, or nil if that unit has no
    /// location, lies past the table or the table is malformed.
    func line(at index: Int) -> Int? {
        var cursor = 0
        var line = firstLine
        var start = 0
        while cursor < table.count {
            let header = Int(table[cursor])
            guard header & 0x80 != 0 else { return nil }
            cursor += 1
            let code = (header >> 3) & 0x0f
            let end = start + (header & 0x07) + 1
            switch code {
            case Self.noLocation:
                break
            case Self.longForm:
                guard let delta = readSignedVarint(&cursor), let moved = Self.add(delta, to: line) else { return nil }
                line = moved
                for _ in 0..<3 {
                    guard readVarint(&cursor) != nil else { return nil }
                }
            case Self.noColumns:
                guard let delta = readSignedVarint(&cursor), let moved = Self.add(delta, to: line) else { return nil }
                line = moved
            case Self.oneLineFirst...:
                line += code - Self.oneLineFirst
                cursor += 2
            default:
                cursor += 1
            }
            guard cursor <= table.count else { return nil }
            if index < end { return code == Self.noLocation ? nil : line }
            start = end
        }
        return nil
    }

    /// A varint delta can be up to 2^59: a table from another process's
    /// memory that overflows the running line is malformed, not a crash.
    private static func add(_ delta: Int, to line: Int) -> Int? {
        let (sum, overflow) = line.addingReportingOverflow(delta)
        return overflow ? nil : sum
    }

    private func readVarint(_ cursor: inout Int) -> Int? {
        var value = 0
        var shift = 0
        while cursor < table.count, shift < 60 {
            let byte = Int(table[cursor])
            cursor += 1
            value |= (byte & 0x3f) << shift
            if byte & 0x40 == 0 { return value }
            shift += 6
        }
        return nil
    }

    private func readSignedVarint(_ cursor: inout Int) -> Int? {
        guard let raw = readVarint(&cursor) else { return nil }
        return raw & 1 != 0 ? -(raw >> 1) : raw >> 1
    }
}
