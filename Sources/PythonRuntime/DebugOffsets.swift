/// Reads `_Py_DebugOffsets`, the table CPython 3.13+ keeps at the start of
/// `_PyRuntime` for out-of-process tools, and turns it into a layout. Its
/// own layout is fixed within a minor version; this reader knows 3.13's.
public enum DebugOffsets {
    public static let cookie: [UInt8] = Array("xdebugpy".utf8)
    /// Bytes of the 3.13 struct read from memory.
    public static let size313 = 584

    public struct Header: Equatable {
        public var version: PythonVersion
        public var freeThreaded: Bool
    }

    public static func header(_ bytes: [UInt8]) -> Header? {
        guard bytes.count >= 24, Array(bytes[0..<8]) == cookie else { return nil }
        return Header(version: PythonVersion(hex: field(bytes, 8)), freeThreaded: field(bytes, 16) != 0)
    }

    /// The layout for a 3.13 interpreter, from its own table.
    public static func layout313(_ bytes: [UInt8]) -> PythonLayout? {
        guard bytes.count >= size313, header(bytes) != nil else { return nil }
        func offset(_ at: Int) -> Int { Int(truncatingIfNeeded: field(bytes, at)) }
        let asciiSize = offset(560)
        return PythonLayout(
            runtimeInterpretersHead: offset(40), interpreterThreadsHead: offset(72),
            threadNext: offset(168), threadID: offset(192), threadFrame: offset(184), cframeCurrentFrame: nil,
            framePrevious: offset(232), frameCode: offset(240), frameInstruction: offset(248),
            instructionIsPointer: true, frameIsEntry: nil, frameOwner: offset(264),
            codeFilename: offset(280), codeName: offset(288), codeQualname: offset(296),
            codeFirstLineNumber: offset(312), codeLineTable: offset(304), codeAdaptive: offset(344),
            // Not in the table; checked against 3.13's headers in PythonLayoutTableTests.
            codeVersion: 92,
            lineTableFormat: .locationTable,
            // PyCompactUnicodeObject adds utf8_length and utf8 to PyASCIIObject.
            strings: .unicode(asciiData: asciiSize, compactData: asciiSize + 16))
    }

    static func field(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) }
    }
}
