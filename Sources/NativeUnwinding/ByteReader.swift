/// A cursor over the bytes of one CFI section: little-endian fixed-width
/// integers, LEB128 and length-prefixed blocks. Every read is checked
/// against `limit` (the end of the current entry) and throws past it, so a
/// truncated or lying length field cannot read another entry's bytes.
struct ByteReader {
    let bytes: [UInt8]
    var offset: Int
    var limit: Int

    init(_ bytes: [UInt8], offset: Int = 0, limit: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.limit = min(limit ?? bytes.count, bytes.count)
    }

    var isAtEnd: Bool { offset >= limit }

    private func require(_ count: Int) throws {
        guard count >= 0, offset <= limit, limit - offset >= count else {
            throw CFIError.truncated(offset: offset)
        }
    }

    mutating func u8() throws -> UInt8 {
        try require(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws -> UInt16 { UInt16(truncatingIfNeeded: try little(2)) }
    mutating func u32() throws -> UInt32 { UInt32(truncatingIfNeeded: try little(4)) }
    mutating func u64() throws -> UInt64 { try little(8) }

    private mutating func little(_ width: Int) throws -> UInt64 {
        try require(width)
        var value: UInt64 = 0
        for index in 0..<width {
            value |= UInt64(bytes[offset + index]) << (8 * UInt64(index))
        }
        offset += width
        return value
    }

    mutating func uleb() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try u8()
            if shift < 64 { value |= UInt64(byte & 0x7f) << shift }
            shift += 7
            if byte & 0x80 == 0 { return value }
        }
    }

    mutating func sleb() throws -> Int64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var byte: UInt8
        repeat {
            byte = try u8()
            if shift < 64 { value |= UInt64(byte & 0x7f) << shift }
            shift += 7
        } while byte & 0x80 != 0
        if shift < 64 && byte & 0x40 != 0 { value |= ~0 << shift }
        return Int64(bitPattern: value)
    }

    mutating func skip(_ count: Int) throws {
        try require(count)
        offset += count
    }

    /// A DWARF block: a ULEB128 length, then that many bytes.
    mutating func block() throws -> ArraySlice<UInt8> {
        let length = try uleb()
        guard length <= UInt64(limit - offset) else { throw CFIError.truncated(offset: offset) }
        let start = offset
        offset += Int(length)
        return bytes[start..<offset]
    }

    mutating func cString() throws -> String {
        let start = offset
        while try u8() != 0 {}
        return String(decoding: bytes[start..<offset - 1], as: UTF8.self)
    }
}
