import ProcessInspection

/// The bytes of a code object and of the objects it names, as the kernel
/// copied them when a sample first held it (`pyro_code_capture`): enough
/// to name its frames after it is freed, or after its process exited.
public struct CapturedCodeObject: Sendable, Equatable {
    public struct Part: Sendable, Equatable {
        public var address: UInt64
        public var bytes: [UInt8]

        public init(address: UInt64, bytes: [UInt8]) {
            self.address = address
            self.bytes = bytes
        }
    }

    public var code: UInt64
    /// What the walker read as the frame's stamp when it captured it.
    public var stamp: UInt32
    /// The code object, its filename, its name and its line table: as much
    /// of each as was read.
    public var parts: [Part]

    public init(code: UInt64, stamp: UInt32, parts: [Part]) {
        self.code = code
        self.stamp = stamp
        self.parts = parts.filter { !$0.bytes.isEmpty }
    }

    /// The captured bytes as memory: reads outside them fail.
    var memory: MemoryReader { CapturedMemory(parts) }
}

private final class CapturedMemory: MemoryReader {
    private let parts: [CapturedCodeObject.Part]

    init(_ parts: [CapturedCodeObject.Part]) { self.parts = parts }

    func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        for part in parts where part.address <= address {
            let offset = address - part.address
            guard offset + UInt64(buffer.count) <= UInt64(part.bytes.count) else { continue }
            part.bytes.withUnsafeBytes {
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<Int(offset) + buffer.count]))
            }
            return true
        }
        return false
    }
}
