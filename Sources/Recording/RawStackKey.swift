/// What makes two samples the same stack before symbolization: the thread,
/// and a 128-bit digest of everything the kernel captured (names, stacks,
/// walk statuses), so a distinct stack costs a few words to remember
/// rather than a copy of its addresses.
struct RawStackKey: Hashable {
    var pid: Int32
    var tid: Int32
    var digest: (UInt64, UInt64)

    init(_ sample: RawSample) {
        pid = sample.pid
        tid = sample.tid
        // Two hashers told apart by a first value give 128 independent bits.
        var first = Hasher(), second = Hasher()
        first.combine(0 as UInt8)
        second.combine(1 as UInt8)
        Self.feed(sample, into: &first)
        Self.feed(sample, into: &second)
        digest = (UInt64(bitPattern: Int64(first.finalize())), UInt64(bitPattern: Int64(second.finalize())))
    }

    private static func feed(_ sample: RawSample, into hasher: inout Hasher) {
        hasher.combine(sample.processComm)
        hasher.combine(sample.threadComm)
        hasher.combine(sample.kernelStack)
        hasher.combine(sample.userStack)
        hasher.combine(sample.userStackError != 0)
        hasher.combine(sample.pythonStatus.rawValue)
        hasher.combine(sample.nativeStatus.rawValue)
        hasher.combine(sample.pythonFrames)
        if let state = sample.offCPUState { hasher.combine(state) }
        if let gil = sample.gil { hasher.combine(gil) }
    }

    /// The key of a process's overflow stack, which takes the samples of
    /// stacks past the session's limit.
    init(overflowOf pid: Int32) {
        self.pid = pid
        tid = 0
        digest = (0, 0)
    }

    static func == (a: RawStackKey, b: RawStackKey) -> Bool {
        a.pid == b.pid && a.tid == b.tid && a.digest == b.digest
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(pid)
        hasher.combine(tid)
        hasher.combine(digest.0)
        hasher.combine(digest.1)
    }
}
