import CPyrograph
import PythonRuntime

/// A ring-buffer record decoded from the layout in pyrograph_abi.h.
public enum RingBufferRecord: Equatable {
    case sample(RawSample)
    case processExit(pid: Int32)
    case processExec(pid: Int32)
    /// The interpreter start probe fired: the kernel gave it its layout.
    case pythonStarted(pid: Int32)
    /// What naming a code object needs, copied at sample time.
    case codeCaptured(pid: Int32, CapturedCodeObject)
    case mappingAdded(pid: Int32)
    /// An off-CPU interval's end: the thread `tid`, whose stacks were sent
    /// at `start` (CLOCK_MONOTONIC), came back on CPU at `end`.
    case offCPUEnd(tid: Int32, startNanoseconds: UInt64, endNanoseconds: UInt64)
    case malformed(kind: UInt32, size: Int)

    public init(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 4 else {
            self = .malformed(kind: 0, size: bytes.count)
            return
        }
        let kind = bytes.loadUnaligned(as: UInt32.self)
        switch kind {
        case PYRO_EVENT_SAMPLE.rawValue where bytes.count >= RawSample.fixedSize:
            // A record that does not say what it stands for cannot be weighed.
            guard let sample = RawSample(bytes) else {
                self = .malformed(kind: kind, size: bytes.count)
                return
            }
            self = .sample(sample)
        case PYRO_EVENT_PROCESS_EXEC.rawValue where bytes.count >= MemoryLayout<pyro_process_exec>.size:
            let pid = bytes.loadUnaligned(fromByteOffset: MemoryLayout<pyro_process_exec>.offset(of: \.pid)!, as: UInt32.self)
            self = .processExec(pid: Int32(bitPattern: pid))
        case PYRO_EVENT_PYTHON_STARTED.rawValue where bytes.count >= MemoryLayout<pyro_python_started>.size:
            let pid = bytes.loadUnaligned(fromByteOffset: MemoryLayout<pyro_python_started>.offset(of: \.pid)!, as: UInt32.self)
            self = .pythonStarted(pid: Int32(bitPattern: pid))
        case PYRO_EVENT_CODE_CAPTURED.rawValue where bytes.count >= MemoryLayout<pyro_code_capture>.size:
            self = RingBufferRecord.codeCapture(bytes)
        case PYRO_EVENT_MAPPING_ADDED.rawValue where bytes.count >= MemoryLayout<pyro_mapping_added>.size:
            let pid = bytes.loadUnaligned(fromByteOffset: MemoryLayout<pyro_mapping_added>.offset(of: \.pid)!, as: UInt32.self)
            self = .mappingAdded(pid: Int32(bitPattern: pid))
        case PYRO_EVENT_OFF_CPU_END.rawValue where bytes.count >= MemoryLayout<pyro_off_cpu_end>.size:
            typealias Layout = MemoryLayout<pyro_off_cpu_end>
            let tid = bytes.loadUnaligned(fromByteOffset: Layout.offset(of: \.tid)!, as: UInt32.self)
            self = .offCPUEnd(tid: Int32(bitPattern: tid),
                              startNanoseconds: bytes.loadUnaligned(fromByteOffset: Layout.offset(of: \.start_ns)!, as: UInt64.self),
                              endNanoseconds: bytes.loadUnaligned(fromByteOffset: Layout.offset(of: \.end_ns)!, as: UInt64.self))
        case PYRO_EVENT_PROCESS_EXIT.rawValue where bytes.count >= MemoryLayout<pyro_process_exit>.size:
            let pid = bytes.loadUnaligned(fromByteOffset: MemoryLayout<pyro_process_exit>.offset(of: \.pid)!, as: UInt32.self)
            self = .processExit(pid: Int32(bitPattern: pid))
        default:
            self = .malformed(kind: kind, size: bytes.count)
        }
    }
}

extension RingBufferRecord {
    static func codeCapture(_ bytes: UnsafeRawBufferPointer) -> RingBufferRecord {
        typealias Layout = MemoryLayout<pyro_code_capture>
        func u64(_ path: KeyPath<pyro_code_capture, UInt64>) -> UInt64 {
            bytes.loadUnaligned(fromByteOffset: Layout.offset(of: path)!, as: UInt64.self)
        }
        func u16(_ path: KeyPath<pyro_code_capture, UInt16>) -> Int {
            Int(bytes.loadUnaligned(fromByteOffset: Layout.offset(of: path)!, as: UInt16.self))
        }
        func part(_ address: UInt64, _ field: PartialKeyPath<pyro_code_capture>, size: Int, capacity: Int32) -> CapturedCodeObject.Part {
            let start = Layout.offset(of: field)!
            return .init(address: address, bytes: Array(bytes[start..<start + min(size, Int(capacity))]))
        }
        let pid = bytes.loadUnaligned(fromByteOffset: Layout.offset(of: \.pid)!, as: UInt32.self)
        let code = u64(\.code)
        let capture = CapturedCodeObject(
            code: code, stamp: bytes.loadUnaligned(fromByteOffset: Layout.offset(of: \.stamp)!, as: UInt32.self),
            parts: [
                part(code, \pyro_code_capture.code_bytes, size: u16(\.code_size), capacity: PYRO_CAPTURE_CODE_BYTES),
                part(u64(\.filename), \pyro_code_capture.filename_bytes, size: u16(\.filename_size),
                     capacity: PYRO_CAPTURE_FILENAME_BYTES),
                part(u64(\.name), \pyro_code_capture.name_bytes, size: u16(\.name_size), capacity: PYRO_CAPTURE_NAME_BYTES),
                part(u64(\.line_table), \pyro_code_capture.line_table_bytes, size: u16(\.line_table_size),
                     capacity: PYRO_CAPTURE_LINE_TABLE_BYTES),
            ])
        return .codeCaptured(pid: Int32(bitPattern: pid), capture)
    }
}

/// What a sample record stands for (`enum pyro_sample_origin`).
public enum SampleOrigin: Equatable, Sendable {
    /// The cpu-clock sampler found the thread running.
    case onCPU
    /// The thread went off CPU; the weight is how long it stayed off.
    case offCPU

    init?(_ raw: UInt32) {
        switch raw {
        case PYRO_ORIGIN_ON_CPU.rawValue: self = .onCPU
        case PYRO_ORIGIN_OFF_CPU.rawValue: self = .offCPU
        default: return nil
        }
    }

    var rawValue: UInt32 {
        switch self {
        case .onCPU: return PYRO_ORIGIN_ON_CPU.rawValue
        case .offCPU: return PYRO_ORIGIN_OFF_CPU.rawValue
        }
    }
}

/// Why an off-CPU record's thread left the CPU (`enum pyro_off_cpu_state`).
public enum OffCPUState: Hashable, Sendable {
    case sleeping
    case uninterruptible
    case preempted

    init?(_ raw: UInt32) {
        switch raw {
        case PYRO_OFF_CPU_SLEEPING.rawValue: self = .sleeping
        case PYRO_OFF_CPU_UNINTERRUPTIBLE.rawValue: self = .uninterruptible
        case PYRO_OFF_CPU_PREEMPTED.rawValue: self = .preempted
        default: return nil
        }
    }
}

/// Where a Python thread stood with the GIL (`enum pyro_gil_state`),
/// recorded with `--gil`.
public enum GILHolding: Hashable, Sendable {
    case held
    case released
    case waiting

    init?(_ raw: UInt32) {
        switch raw {
        case PYRO_GIL_HELD.rawValue: self = .held
        case PYRO_GIL_RELEASED.rawValue: self = .released
        case PYRO_GIL_WAITING.rawValue: self = .waiting
        default: return nil
        }
    }
}

/// The raw content of one sample: who was on CPU and the addresses of its
/// stacks, innermost first, as the kernel captured them.
public struct RawSample: Equatable {
    public var pid: Int32
    public var tid: Int32
    public var cpu: UInt32
    public var timestampNanoseconds: UInt64
    public var origin: SampleOrigin
    /// The time the record stands for: the sampling period of an on-CPU
    /// sample, the length of an off-CPU interval.
    public var weightNanoseconds: UInt64
    /// Off-CPU records: why the thread left the CPU.
    public var offCPUState: OffCPUState?
    /// `--gil`: the thread's GIL state; nil when not asked or not known.
    public var gil: GILHolding?
    public var processComm: String
    public var threadComm: String
    public var kernelStack: [UInt64]
    public var userStack: [UInt64]
    /// Negative errno values when a capture failed; 0 otherwise.
    public var kernelStackError: Int32
    public var userStackError: Int32
    public var pythonStatus: pyro_python_status
    /// How the native walk ended; FRAME_POINTERS when bpf_get_stack did it.
    public var nativeStatus: pyro_native_status
    /// Innermost first, as the walker emitted them (markers included).
    public var pythonFrames: [PythonFrameRecord]

    /// The part of a sample record that is always sent; the stacks follow.
    static let fixedSize = MemoryLayout<pyro_sample>.offset(of: \.stacks)!

    /// nil when the record's origin is unknown.
    init?(_ bytes: UnsafeRawBufferPointer) {
        typealias Layout = MemoryLayout<pyro_sample>
        func u32(_ path: KeyPath<pyro_sample, UInt32>) -> UInt32 {
            bytes.loadUnaligned(fromByteOffset: Layout.offset(of: path)!, as: UInt32.self)
        }
        func u64(_ path: KeyPath<pyro_sample, UInt64>) -> UInt64 {
            bytes.loadUnaligned(fromByteOffset: Layout.offset(of: path)!, as: UInt64.self)
        }
        func s32(_ path: KeyPath<pyro_sample, Int32>) -> Int32 {
            bytes.loadUnaligned(fromByteOffset: Layout.offset(of: path)!, as: Int32.self)
        }
        func comm(_ offset: Int) -> String {
            let field = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(PYRO_COMM_LEN)])
            return String(decoding: field.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        guard let origin = SampleOrigin(u32(\.origin)) else { return nil }
        // The stacks are packed where pyrograph_abi.h says, and a record
        // cut short yields what it holds.
        let wordsSent = (bytes.count - RawSample.fixedSize) / 8
        func words(_ first: UInt32, _ end: UInt32) -> [UInt64] {
            (Int(first)..<max(Int(first), min(Int(end), wordsSent))).map {
                bytes.loadUnaligned(fromByteOffset: RawSample.fixedSize + $0 * 8, as: UInt64.self)
            }
        }
        pid = Int32(bitPattern: u32(\.pid))
        tid = Int32(bitPattern: u32(\.tid))
        cpu = u32(\.cpu)
        timestampNanoseconds = u64(\.timestamp_ns)
        self.origin = origin
        weightNanoseconds = u64(\.weight_ns)
        offCPUState = origin == .offCPU ? OffCPUState(u32(\.off_cpu_state)) ?? .sleeping : nil
        gil = GILHolding(u32(\.gil_state))
        processComm = comm(Layout.offset(of: \.process_comm)!)
        threadComm = comm(Layout.offset(of: \.thread_comm)!)
        let kernelBytes = s32(\.kernel_stack_bytes)
        let userBytes = s32(\.user_stack_bytes)
        let firstUserWord = pyro_user_stack_first_word(kernelBytes)
        let firstPythonWord = pyro_python_first_word(kernelBytes, userBytes)
        kernelStack = words(0, firstUserWord)
        userStack = words(firstUserWord, firstPythonWord)
        kernelStackError = min(kernelBytes, 0)
        userStackError = min(userBytes, 0)
        pythonStatus = pyro_python_status(rawValue: u32(\.python_status))
        nativeStatus = pyro_native_status(rawValue: u32(\.native_status))
        let count = u32(\.python_frame_count)
        let end = pyro_sample_used_words(kernelBytes, userBytes, count)
        pythonFrames = stride(from: Int(firstPythonWord), to: min(Int(end), wordsSent) - 1, by: Int(PYRO_PYTHON_FRAME_WORDS))
            .map { word in
                let base = RawSample.fixedSize + word * 8
                return PythonFrameRecord(
                    code: bytes.loadUnaligned(fromByteOffset: base, as: UInt64.self),
                    instruction: bytes.loadUnaligned(fromByteOffset: base + 8, as: Int32.self),
                    stamp: bytes.loadUnaligned(fromByteOffset: base + 12, as: UInt32.self))
            }
    }

    public init(pid: Int32, tid: Int32, processComm: String, threadComm: String,
                kernelStack: [UInt64], userStack: [UInt64], origin: SampleOrigin = .onCPU, weightNanoseconds: UInt64 = 0,
                offCPUState: OffCPUState? = nil, gil: GILHolding? = nil) {
        self.offCPUState = offCPUState
        self.gil = gil
        self.pid = pid
        self.tid = tid
        self.cpu = 0
        self.timestampNanoseconds = 0
        self.origin = origin
        self.weightNanoseconds = weightNanoseconds
        self.processComm = processComm
        self.threadComm = threadComm
        self.kernelStack = kernelStack
        self.userStack = userStack
        self.kernelStackError = 0
        self.userStackError = 0
        self.pythonStatus = PYRO_PYTHON_NOT_PYTHON
        self.nativeStatus = PYRO_NATIVE_FRAME_POINTERS
        self.pythonFrames = []
    }
}

/// One frame of the BPF Python walk; code 0 marks an eval-loop boundary.
public struct PythonFrameRecord: Hashable {
    public var code: UInt64
    public var instruction: Int32
    public var stamp: UInt32

    public var isEntryMarker: Bool { code == 0 }
}

