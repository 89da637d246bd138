import NativeUnwinding

/// Input: byte 0 bit 0 the section kind (0 .eh_frame, 1 .debug_frame),
/// then the section's address (u64), then its bytes. Parsed, every CIE's
/// program run, compiled into unwind rows, and a few rows looked up.
enum CFIFuzz {
    static func run(_ input: UnsafeRawBufferPointer) {
        var cursor = InputCursor(input)
        let kind: CFISection.Kind = cursor.integer(UInt8.self) & 1 == 0 ? .ehFrame : .debugFrame
        let address = cursor.integer(UInt64.self)
        let section = CFISection(kind: kind, address: address, bytes: Array(cursor.remaining),
                                 textBase: address &+ 0x1000, dataBase: address &+ 0x200000)
        if let entries = try? section.entries() {
            for fde in entries.fdes.prefix(64) {
                guard let cie = entries.cies[fde.cieOffset],
                      let interpreter = try? CFAInterpreter(section: section, cie: cie) else { continue }
                _ = try? interpreter.rows(for: fde)
            }
        }
        guard let table = try? UnwindTable.compile(sections: [section], executableRanges: [0..<0x10000]) else { return }
        for row in table.rows.prefix(16) { _ = table.row(for: row.pc) }
    }
}
