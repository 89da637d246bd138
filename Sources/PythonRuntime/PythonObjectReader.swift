import ProcessInspection

/// Reads the few object types a code object is made of (str, bytes) from
/// another process's memory, with the string layout of its version.
public struct PythonObjectReader {
    public let memory: MemoryReader
    public let layout: PythonLayout

    /// Longest string or table read; anything larger is taken as garbage.
    static let sizeLimit = 1 << 20

    public init(memory: MemoryReader, layout: PythonLayout) {
        self.memory = memory
        self.layout = layout
    }

    /// `PyCode_Type`, relocated, when known: an address whose object is of
    /// another type is not read as a code object.
    public var codeType: UInt64?

    /// `lineTableRequired: false` names a code object whose line table
    /// cannot be read whole (a capture holds only its start): every line
    /// is then its first line.
    public func codeObject(at address: UInt64, lineTableRequired: Bool = true) -> CodeObject? {
        func pointer(_ offset: Int) -> UInt64? { memory.load(UInt64.self, at: address &+ UInt64(offset)) }
        if let codeType, pointer(layout.objects.objectType) != codeType { return nil }
        guard let filenameObject = pointer(layout.codeFilename),
              let nameObject = pointer(layout.codeQualname ?? layout.codeName),
              let tableObject = pointer(layout.codeLineTable),
              let firstLine = memory.load(Int32.self, at: address &+ UInt64(layout.codeFirstLineNumber)),
              let filename = string(at: filenameObject),
              let name = string(at: nameObject),
              let table = bytes(at: tableObject, dataOffset: layout.lineTableDataOffset) ?? (lineTableRequired ? nil : [])
        else { return nil }
        let stampOffset = layout.codeVersion ?? layout.codeFirstLineNumber
        guard let stamp = memory.load(UInt32.self, at: address &+ UInt64(stampOffset)) else { return nil }
        return CodeObject(name: name, filename: filename, firstLine: Int(firstLine), lineTable: table, stamp: stamp)
    }

    public func string(at address: UInt64) -> String? {
        switch layout.strings {
        case .python2Bytes:
            return bytes(at: address, dataOffset: 36).map { String(decoding: $0, as: UTF8.self) }
        case let .unicode(asciiData, compactData):
            let objects = layout.objects
            guard let length = memory.load(Int64.self, at: address &+ UInt64(objects.unicodeLength)),
                  length >= 0, length < Self.sizeLimit,
                  let rawState = memory.load(UInt32.self, at: address &+ UInt64(objects.unicodeState)) else { return nil }
            let state = rawState >> UInt32(objects.unicodeStateShift)
            let kind = Int((state >> 2) & 7), compact = state & (1 << 5) != 0, ascii = state & (1 << 6) != 0
            guard compact, [1, 2, 4].contains(kind) else { return nil }
            let data = address &+ UInt64(ascii ? asciiData : compactData)
            guard let raw = memory.bytes(data, count: Int(length) * kind) else { return nil }
            return PythonObjectReader.decode(raw, kind: kind)
        }
    }

    func bytes(at address: UInt64, dataOffset: Int) -> [UInt8]? {
        let sizeOffset = layout.strings == .python2Bytes ? 16 : layout.objects.bytesSize
        guard let size = memory.load(Int64.self, at: address &+ UInt64(sizeOffset)), size >= 0, size < Self.sizeLimit else { return nil }
        return memory.bytes(address &+ UInt64(dataOffset), count: Int(size))
    }

    /// Latin-1, UCS-2 or UCS-4 code points to a Swift string.
    static func decode(_ raw: [UInt8], kind: Int) -> String {
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index + kind <= raw.count {
            var value: UInt32 = 0
            for byte in 0..<kind { value |= UInt32(raw[index + byte]) << (8 * byte) }
            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            index += kind
        }
        return String(scalars)
    }
}
