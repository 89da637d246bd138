import CPyrograph

/// The kernel side's counters, summed over CPUs.
public struct SamplerStats: Equatable, Sendable {
    public var samples: UInt64 = 0
    public var idle: UInt64 = 0
    public var filtered: UInt64 = 0
    public var lostRingBufferFull: UInt64 = 0
    public var kernelStackErrors: UInt64 = 0
    public var userStackErrors: UInt64 = 0
    public var pythonNoThreadState: UInt64 = 0
    public var pythonReadFaults: UInt64 = 0
    public var pythonTruncated: UInt64 = 0
    /// Walks cut where the frame chain stopped making sense (a cycle, a
    /// frame whose code is not a code object, a misaligned frame).
    public var pythonChainBroken: UInt64 = 0
    public var unwindNoMapping: UInt64 = 0
    public var unwindNoCFI: UInt64 = 0
    public var unwindReadFault: UInt64 = 0
    public var unwindDepth: UInt64 = 0
    public var unwindUnsupportedRule: UInt64 = 0
    /// Off-CPU intervals whose end was sent, and those lost in the kernel.
    public var offCPUIntervals: UInt64 = 0
    public var offCPULostRingBufferFull: UInt64 = 0
    public var offCPUUntracked: UInt64 = 0
    /// Switch-outs skipped by `--off-cpu-sampling`.
    public var offCPUSampledOut: UInt64 = 0
    /// `--gil`: records whose GIL could not be read.
    public var gilUnreadable: UInt64 = 0

    public init() {}

    init(values: [UInt64]) {
        func value(_ stat: pyro_stat) -> UInt64 {
            let index = Int(stat.rawValue)
            return index < values.count ? values[index] : 0
        }
        samples = value(PYRO_STAT_SAMPLES)
        idle = value(PYRO_STAT_IDLE)
        filtered = value(PYRO_STAT_FILTERED)
        lostRingBufferFull = value(PYRO_STAT_LOST_RINGBUF)
        kernelStackErrors = value(PYRO_STAT_KERNEL_STACK_ERROR)
        userStackErrors = value(PYRO_STAT_USER_STACK_ERROR)
        pythonNoThreadState = value(PYRO_STAT_PYTHON_NO_THREAD_STATE)
        pythonReadFaults = value(PYRO_STAT_PYTHON_READ_FAULT)
        pythonTruncated = value(PYRO_STAT_PYTHON_TRUNCATED)
        unwindNoMapping = value(PYRO_STAT_UNWIND_NO_MAPPING)
        unwindNoCFI = value(PYRO_STAT_UNWIND_NO_CFI)
        unwindReadFault = value(PYRO_STAT_UNWIND_READ_FAULT)
        unwindDepth = value(PYRO_STAT_UNWIND_DEPTH)
        unwindUnsupportedRule = value(PYRO_STAT_UNWIND_UNSUPPORTED_RULE)
        offCPUIntervals = value(PYRO_STAT_OFF_CPU_INTERVALS)
        offCPULostRingBufferFull = value(PYRO_STAT_OFF_CPU_LOST_RINGBUF)
        offCPUUntracked = value(PYRO_STAT_OFF_CPU_UNTRACKED)
        offCPUSampledOut = value(PYRO_STAT_OFF_CPU_SAMPLED_OUT)
        gilUnreadable = value(PYRO_STAT_GIL_UNREADABLE)
        pythonChainBroken = value(PYRO_STAT_PYTHON_CHAIN_BROKEN)
    }

    public var lost: UInt64 { lostRingBufferFull }
}
