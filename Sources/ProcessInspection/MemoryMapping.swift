/// One line of /proc/PID/maps.
public struct MemoryMapping: Equatable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var permissions: String
    public var fileOffset: UInt64
    public var device: String
    public var inode: UInt64
    /// The path as the process sees it, `[vdso]`-style pseudo names, or "".
    public var path: String

    public var isExecutable: Bool { permissions.contains("x") }
    public var isFileBacked: Bool { inode != 0 && path.hasPrefix("/") }

    /// Identity of the mapped file across processes and mount namespaces.
    public var fileKey: String { "\(device):\(inode)" }

    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }

    /// Parses one maps line: `start-end perms offset dev inode   path`.
    public init?(line: Substring) {
        guard let mapping = Array(line.utf8).withUnsafeBufferPointer({ MemoryMapping(line: $0[...]) }) else { return nil }
        self = mapping
    }

    /// Every line of a maps file that parses. As bytes: the recorder reads
    /// the maps of every process it meets, and of each again when it maps
    /// code, where splitting the text as Swift strings took a quarter of
    /// its time on a host starting 25 Pythons a second.
    public static func parse(maps: [UInt8]) -> [MemoryMapping] {
        maps.withUnsafeBufferPointer { bytes in
            var mappings: [MemoryMapping] = []
            var lineStart = 0
            while lineStart < bytes.count {
                let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                if let mapping = MemoryMapping(line: bytes[lineStart..<lineEnd]) { mappings.append(mapping) }
                lineStart = lineEnd + 1
            }
            return mappings
        }
    }

    private init?(line: Slice<UnsafeBufferPointer<UInt8>>) {
        var fields = MapsFields(line)
        guard let start = fields.number(radix: 16, endingAt: UInt8(ascii: "-")),
              let end = fields.number(radix: 16, endingAt: UInt8(ascii: " ")),
              let permissions = fields.word(),
              let offset = fields.number(radix: 16, endingAt: UInt8(ascii: " ")),
              let device = fields.word(),
              let inode = fields.number(radix: 10, endingAt: UInt8(ascii: " "))
        else { return nil }
        self.start = start
        self.end = end
        self.permissions = permissions
        self.fileOffset = offset
        self.device = device
        self.inode = inode
        self.path = fields.rest()
    }

    public init(start: UInt64, end: UInt64, permissions: String, fileOffset: UInt64,
                device: String, inode: UInt64, path: String) {
        self.start = start
        self.end = end
        self.permissions = permissions
        self.fileOffset = fileOffset
        self.device = device
        self.inode = inode
        self.path = path
    }
}

/// The fields of one maps line, read left to right; each read skips the
/// spaces before its field.
private struct MapsFields {
    private let line: Slice<UnsafeBufferPointer<UInt8>>
    private var position: Int

    init(_ line: Slice<UnsafeBufferPointer<UInt8>>) {
        self.line = line
        position = line.startIndex
    }

    private mutating func skipSpaces() {
        while position < line.endIndex, line[position] == UInt8(ascii: " ") { position += 1 }
    }

    /// Digits up to `terminator` or the line's end, which is consumed; nil
    /// for no digits, another byte or more than 64 bits.
    mutating func number(radix: UInt64, endingAt terminator: UInt8) -> UInt64? {
        skipSpaces()
        var value: UInt64 = 0
        var digits = 0
        while position < line.endIndex, line[position] != terminator {
            let byte = line[position]
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            guard digit < radix else { return nil }
            let (shifted, overflow) = value.multipliedReportingOverflow(by: radix)
            guard !overflow, shifted <= UInt64.max - digit else { return nil }
            value = shifted + digit
            digits += 1
            position += 1
        }
        if position < line.endIndex { position += 1 }
        return digits > 0 ? value : nil
    }

    /// Bytes up to the next space.
    mutating func word() -> String? {
        skipSpaces()
        let start = position
        while position < line.endIndex, line[position] != UInt8(ascii: " ") { position += 1 }
        return position > start ? String(decoding: UnsafeBufferPointer(rebasing: line[start..<position]), as: UTF8.self) : nil
    }

    /// The rest of the line after the spaces before it.
    mutating func rest() -> String {
        skipSpaces()
        return String(decoding: UnsafeBufferPointer(rebasing: line[position...]), as: UTF8.self)
    }
}
