/// A profile's frames and stacks as bytes and back, exactly: what a long
/// recording sets aside on disk (`Recording/StackSpillFile`) so its memory
/// does not grow with its length. Private to one run of pyrograph, so
/// plain and compact rather than a format for other tools: varints, each
/// frame once, a stack as its frame indices and its values. The timeline
/// and the recording's info are not kept (the caller keeps them).
public enum ProfileArchive {
    public struct DecodeError: Error, Equatable {
        public let offset: Int
    }

    private static let magic: [UInt8] = Array("PYRS1".utf8)

    public static func encoded(_ profile: Profile) -> [UInt8] {
        var out = ArchiveWriter()
        out.bytes.reserveCapacity(profile.stacks.count * 48 + profile.frames.count * 32 + 64)
        out.bytes += magic
        out.varint(UInt64(profile.frames.count))
        for frame in profile.frames { out.frame(frame) }
        out.varint(UInt64(profile.stacks.count))
        for stack in profile.stacks {
            out.varint(UInt64(stack.frames.count))
            for index in stack.frames { out.varint(UInt64(UInt32(bitPattern: index))) }
            for value in stack.values { out.varint(value) }
        }
        return out.bytes
    }

    /// The profile `encoded` was given, with these sample types (one value
    /// each per stack); throws at the first byte that does not fit.
    public static func profile(from bytes: [UInt8], sampleTypes: [SampleType]) throws -> Profile {
        var profile = Profile(sampleTypes: sampleTypes)
        var indices: [Int32] = []
        var key: [Int32] = []
        try read(bytes, valuesPerStack: sampleTypes.count, frame: { indices.append(profile.intern($0)) }, stack: { stack, values in
            key.removeAll(keepingCapacity: true)
            for index in stack { key.append(indices[Int(index)]) }
            // A stack with no frames or no value would not be in a profile:
            // each one read is one `add` keeps, so indices stay aligned.
            guard profile.add(frameIndices: key, values: values) == profile.stacks.count - 1 else {
                throw DecodeError(offset: -1)
            }
        })
        return profile
    }

    /// Hands over the frames (numbered from 0 as they come), then each
    /// stack as indices into them with its values, as `encoded` wrote them;
    /// throws at the first byte that does not fit, after the frames and
    /// stacks before it were handed over.
    public static func read(_ bytes: [UInt8], valuesPerStack: Int, frame: (Frame) throws -> Void,
                            stack: ([Int32], [UInt64]) throws -> Void) throws {
        var input = ArchiveReader(bytes: bytes)
        guard bytes.starts(with: magic) else { throw DecodeError(offset: 0) }
        input.offset = magic.count
        let frameCount = try input.count()
        for _ in 0..<frameCount { try frame(try input.frame()) }
        let stackCount = try input.count()
        var indices: [Int32] = []
        var values = [UInt64](repeating: 0, count: valuesPerStack)
        for _ in 0..<stackCount {
            indices.removeAll(keepingCapacity: true)
            for _ in 0..<(try input.count()) {
                let at = input.offset
                let index = try input.varint()
                guard index < UInt64(frameCount) else { throw DecodeError(offset: at) }
                indices.append(Int32(index))
            }
            for type in values.indices { values[type] = try input.varint() }
            try stack(indices, values)
        }
        guard input.offset == bytes.count else { throw DecodeError(offset: input.offset) }
    }
}

/// Which of a frame's optional fields follow its function.
private struct ArchivedFields: OptionSet {
    let rawValue: UInt8
    static let file = ArchivedFields(rawValue: 1)
    static let line = ArchivedFields(rawValue: 2)
    static let module = ArchivedFields(rawValue: 4)
    static let offset = ArchivedFields(rawValue: 8)
    static let buildID = ArchivedFields(rawValue: 16)
    static let id = ArchivedFields(rawValue: 32)
    static let annotation = ArchivedFields(rawValue: 64)
}

private struct ArchiveWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func signed(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func string(_ text: String) {
        varint(UInt64(text.utf8.count))
        bytes += text.utf8
    }

    mutating func frame(_ frame: Frame) {
        var fields: ArchivedFields = []
        if frame.file != nil { fields.insert(.file) }
        if frame.line != nil { fields.insert(.line) }
        if frame.module != nil { fields.insert(.module) }
        if frame.offset != nil { fields.insert(.offset) }
        if frame.buildID != nil { fields.insert(.buildID) }
        if frame.id != nil { fields.insert(.id) }
        if frame.annotation != nil { fields.insert(.annotation) }
        bytes.append(frame.kind.rawValue)
        bytes.append(fields.rawValue)
        string(frame.function)
        if let file = frame.file { string(file) }
        if let line = frame.line { signed(Int64(line)) }
        if let module = frame.module { string(module) }
        if let offset = frame.offset { varint(offset) }
        if let buildID = frame.buildID { string(buildID) }
        if let id = frame.id { signed(Int64(id)) }
        if let annotation = frame.annotation { self.annotation(annotation) }
    }

    /// A tag, then the case's value. Exhaustive on purpose: a new case does
    /// not compile until it is given a tag here and in `ArchiveReader`.
    mutating func annotation(_ annotation: Annotation) {
        switch annotation {
        case let .nativeUnwindStopped(stop):
            bytes.append(0)
            switch stop {
            case .pcOutsideKnownMappings: bytes.append(0)
            case .noCFIAndNoFramePointer: bytes.append(1)
            case .stackUnreadable: bytes.append(2)
            case let .deeperThan(frames):
                bytes.append(3)
                signed(Int64(frames))
            case .unsupportedCFIRule: bytes.append(4)
            case .noUnwindTable: bytes.append(5)
            }
        case let .offCPU(wait):
            bytes.append(1)
            switch wait {
            case .sleeping: bytes.append(0)
            case .blockedOnIO: bytes.append(1)
            case .preempted: bytes.append(2)
            }
        case .waitingForGIL: bytes.append(2)
        case .userStackUnavailable: bytes.append(3)
        case .pythonFrameUnreadable: bytes.append(4)
        case let .pythonStackTruncated(frames):
            bytes.append(5)
            signed(Int64(frames))
        case .pythonStackReadFault: bytes.append(6)
        case let .pythonChainBroken(reason):
            bytes.append(7)
            switch reason {
            case .cycle: bytes.append(0)
            case .notACodeObject: bytes.append(1)
            case .misalignedFrame: bytes.append(2)
            }
        case let .pythonStacksUnavailable(why):
            bytes.append(8)
            string(why)
        case .stackTableFull: bytes.append(9)
        }
    }
}

private struct ArchiveReader {
    let bytes: [UInt8]
    var offset = 0

    private func failure() -> ProfileArchive.DecodeError { ProfileArchive.DecodeError(offset: offset) }

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw failure() }
        offset += 1
        return bytes[offset - 1]
    }

    mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            let byte = try byte()
            value |= UInt64(byte & 0x7f) << UInt64(shift)
            if byte < 0x80 { return value }
        }
        throw failure()
    }

    /// A count of things that follow, each at least a byte: never more than
    /// the bytes left, so a bad count cannot make a huge reservation.
    mutating func count() throws -> Int {
        let value = try varint()
        guard value <= UInt64(bytes.count - offset) else { throw failure() }
        return Int(value)
    }

    mutating func signed(_ range: ClosedRange<Int64> = Int64.min...Int64.max) throws -> Int64 {
        let raw = try varint()
        let value = Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
        guard range.contains(value) else { throw failure() }
        return value
    }

    mutating func string() throws -> String {
        let length = try count()
        defer { offset += length }
        return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
    }

    mutating func frame() throws -> Frame {
        guard let kind = Frame.Kind(rawValue: try byte()) else { throw failure() }
        let fields = ArchivedFields(rawValue: try byte())
        var frame = Frame(kind: kind, function: try string())
        if fields.contains(.file) { frame.file = try string() }
        if fields.contains(.line) { frame.line = Int(try signed(Int64(Int.min)...Int64(Int.max))) }
        if fields.contains(.module) { frame.module = try string() }
        if fields.contains(.offset) { frame.offset = try varint() }
        if fields.contains(.buildID) { frame.buildID = try string() }
        if fields.contains(.id) { frame.id = Int32(try signed(Int64(Int32.min)...Int64(Int32.max))) }
        if fields.contains(.annotation) { frame.annotation = try annotation() }
        return frame
    }

    mutating func annotation() throws -> Annotation {
        switch try byte() {
        case 0:
            switch try byte() {
            case 0: return .nativeUnwindStopped(.pcOutsideKnownMappings)
            case 1: return .nativeUnwindStopped(.noCFIAndNoFramePointer)
            case 2: return .nativeUnwindStopped(.stackUnreadable)
            case 3: return .nativeUnwindStopped(.deeperThan(frames: Int(try signed())))
            case 4: return .nativeUnwindStopped(.unsupportedCFIRule)
            case 5: return .nativeUnwindStopped(.noUnwindTable)
            default: throw failure()
            }
        case 1:
            switch try byte() {
            case 0: return .offCPU(.sleeping)
            case 1: return .offCPU(.blockedOnIO)
            case 2: return .offCPU(.preempted)
            default: throw failure()
            }
        case 2: return .waitingForGIL
        case 3: return .userStackUnavailable
        case 4: return .pythonFrameUnreadable
        case 5: return .pythonStackTruncated(frames: Int(try signed()))
        case 6: return .pythonStackReadFault
        case 7:
            switch try byte() {
            case 0: return .pythonChainBroken(.cycle)
            case 1: return .pythonChainBroken(.notACodeObject)
            case 2: return .pythonChainBroken(.misalignedFrame)
            default: throw failure()
            }
        case 8: return .pythonStacksUnavailable(try string())
        case 9: return .stackTableFull
        default: throw failure()
        }
    }
}
