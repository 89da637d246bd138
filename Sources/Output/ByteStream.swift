/// Where a writer's bytes go: a file, standard output, a pipe. Writers
/// stream into it in chunks, so a large profile is never one string.
public protocol ByteStream: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension ByteStream {
    public func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }
}

/// Collects text and hands it to a stream in chunks of about `chunkBytes`.
struct ChunkedText {
    private let stream: ByteStream
    private let chunkBytes: Int
    private var buffer: [UInt8] = []

    init(_ stream: ByteStream, chunkBytes: Int = 1 << 16) {
        self.stream = stream
        self.chunkBytes = chunkBytes
        buffer.reserveCapacity(chunkBytes + 4096)
    }

    mutating func append(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= chunkBytes { try flush() }
    }

    /// Bytes without a check for a full chunk: the next `append(_:)` of
    /// text makes it.
    mutating func append(bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
    }

    mutating func append(byte: UInt8) {
        buffer.append(byte)
    }

    /// Bytes without a check for a full chunk (see `flushIfFull`).
    mutating func append(bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    /// A number in decimal, without a check for a full chunk.
    mutating func append(decimal value: UInt64) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { digits in
            var remaining = value
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            } while remaining > 0
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: digits[start...]))
        }
    }

    mutating func flushIfFull() throws {
        if buffer.count >= chunkBytes { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try stream.write($0) }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// A stream into memory, for tests and for callers that want the text.
public final class MemoryStream: ByteStream {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        self.bytes.append(contentsOf: bytes)
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}
