/// Protobuf's wire format, as much of it as pprof's messages use: varint
/// and length-delimited fields, packed repeated varints, and messages
/// nested by length. Fields equal to their default (0, "") are left out,
/// as proto3 encoders do.
///
/// pyrograph writes its pprof files with this rather than through
/// SwiftProtobuf's message structs, which it still uses to read them: at
/// the stack ceiling (200,000 samples) building and serializing the
/// messages took 0.4 s of a recording's stop, one heap object per label,
/// line and sample and a size pass before the write.
struct ProtobufBytes {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    var isEmpty: Bool { bytes.isEmpty }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Another's bytes as they are: fields already encoded.
    mutating func append(raw other: ProtobufBytes) {
        bytes.append(contentsOf: other.bytes)
    }

    mutating func append(varint value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// A varint field (wire type 0); nothing for 0.
    mutating func append(_ field: Int, varint value: UInt64) {
        guard value != 0 else { return }
        append(varint: UInt64(field) << 3)
        append(varint: value)
    }

    /// An int64 field: a negative number is its two's complement, ten bytes.
    mutating func append(_ field: Int, int64 value: Int64) {
        append(field, varint: UInt64(bitPattern: value))
    }

    /// A length-delimited field (wire type 2) holding these bytes, written
    /// even when empty (a nested message with every field at its default
    /// is still an element of a repeated field).
    mutating func append(_ field: Int, bytes content: UnsafeRawBufferPointer) {
        append(varint: UInt64(field) << 3 | 2)
        append(varint: UInt64(content.count))
        bytes.append(contentsOf: content)
    }

    mutating func append(_ field: Int, message: ProtobufBytes) {
        message.bytes.withUnsafeBytes { append(field, bytes: $0) }
    }

    /// A string field; nothing for "".
    mutating func append(_ field: Int, string: String) {
        guard !string.isEmpty else { return }
        var string = string
        string.withUTF8 { append(field, bytes: UnsafeRawBufferPointer($0)) }
    }

    /// A repeated string field's element: written even when "" (pprof's
    /// string table starts with one).
    mutating func append(_ field: Int, element string: String) {
        var string = string
        string.withUTF8 { append(field, bytes: UnsafeRawBufferPointer($0)) }
    }

    /// A packed repeated varint field; nothing when empty. `scratch` holds
    /// the values while their length is counted.
    mutating func append<Values: Sequence>(_ field: Int, packed values: Values, scratch: inout ProtobufBytes)
        where Values.Element == UInt64 {
        scratch.removeAll()
        for value in values { scratch.append(varint: value) }
        guard !scratch.isEmpty else { return }
        append(field, message: scratch)
    }
}
