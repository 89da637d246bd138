import CPyrograph
import CPythonWalker
import ProcessInspection
import PythonRuntime

/// Input: a memory image of a Python process. Byte 0 picks the version
/// (an index into `versions`), then the interpreter head's address (u64),
/// _PyRuntime's (u64; 0: 632 bytes below the head, as on 3.13) and the
/// sampled thread's id (u64), then segments: address (u64), length (u32),
/// bytes; a short last segment keeps what it has. The host-built BPF walker
/// walks it with that version's layout (3.13 and later: the layout the
/// image's own _Py_DebugOffsets give), then PythonSymbolizer names the frames.
enum WalkerFuzz {
    static let versions = ["2.7.18", "3.6.15", "3.7.17", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0",
                           "3.14.0", "3.15.0"]
    /// Where _PyRuntime's debug offsets lie below the interpreter head on 3.13.
    static let runtimeOffset313: UInt64 = 632
    static let sample: UnsafeMutablePointer<pyro_sample> = .allocate(capacity: 1)

    static func run(_ input: UnsafeRawBufferPointer) {
        var cursor = InputCursor(input)
        let versionIndex = Int(cursor.integer(UInt8.self)) % versions.count
        let head = cursor.integer(UInt64.self)
        let runtimeField = cursor.integer(UInt64.self)
        let runtime = runtimeField != 0 ? runtimeField : head &- runtimeOffset313
        let threadID = cursor.integer(UInt64.self)
        var segments: [(start: UInt64, bytes: [UInt8])] = []
        while cursor.offset < input.count, segments.count < 4096 {
            let start = cursor.integer(UInt64.self)
            let length = Int(cursor.integer(UInt32.self) & 0xfffff)
            segments.append((start, cursor.take(length)))
        }
        let memory = SegmentMemory(segments)
        guard let version = PythonVersion(string: versions[versionIndex]) else { return }
        var layout = PythonLayoutTable.layout(for: version)
        if layout == nil {
            let facts = PythonInterpreterFacts(memory: memory, runtimeAddress: runtime,
                                               interpreterHeadSymbol: nil, interpreterPath: "fuzz", version: { nil })
            if case let .layout(read, _)? = DebugOffsetsFamily().resolve(facts) { layout = read }
        }
        // As PythonProcessDetector: a layout the walker cannot read is refused.
        guard let layout, PythonWalkerSupport.refusal(for: layout, version: version) == nil else { return }
        let process = PythonProcess(pid: 0, version: version, buildKind: .shared, interpreterPath: "",
                                    layout: layout, interpreterHeadAddress: head)
        var encoded = pyro_python_layout(process, layout)
        sample.initialize(to: pyro_sample())
        let box = Unmanaged.passRetained(memory)
        defer { box.release() }
        withUnsafePointer(to: &encoded) { layoutPointer in
            var walker = pyro_python_walker(layout: layoutPointer, read: { context, destination, size, address in
                let memory = Unmanaged<SegmentMemory>.fromOpaque(context!).takeUnretainedValue()
                return memory.read(address, into: UnsafeMutableRawBufferPointer(start: destination, count: Int(size))) ? 0 : -14
            }, read_context: box.toOpaque())
            _ = pyro_python_walk_thread(&walker, threadID, sample)
        }
        let count = min(Int(sample.pointee.python_frame_count), Int(PYRO_MAX_PYTHON_FRAMES))
        let records: [pyro_python_frame] = withUnsafeBytes(of: &sample.pointee.stacks) { raw in
            Array(raw.bindMemory(to: pyro_python_frame.self).prefix(count))
        }
        let symbolizer = PythonSymbolizer(process: process, memory: memory)
        for record in records where record.code != 0 {
            _ = symbolizer.frame(code: record.code, instruction: record.instruction, stamp: record.stamp)
        }
    }
}

/// Serves reads from the image's segments; anything else faults.
final class SegmentMemory: MemoryReader {
    private let segments: [(start: UInt64, bytes: [UInt8])]

    init(_ segments: [(start: UInt64, bytes: [UInt8])]) {
        self.segments = segments.sorted { $0.start < $1.start }
    }

    func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        for segment in segments.reversed() where segment.start <= address {
            let offset = address - segment.start
            guard offset <= UInt64(segment.bytes.count), UInt64(buffer.count) <= UInt64(segment.bytes.count) - offset
            else { return false }
            segment.bytes.withUnsafeBytes {
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<Int(offset) + buffer.count]))
            }
            return true
        }
        return false
    }
}
