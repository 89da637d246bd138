import BPFSampler

/// What a live view shows besides the samples: the kernel's counters (lost
/// samples) and how many processes the session has seen.
public struct LiveStatus: Sendable {
    public var stats: SamplerStats
    public var processesSeen: Int

    public init(stats: SamplerStats, processesSeen: Int) {
        self.stats = stats
        self.processesSeen = processesSeen
    }
}

/// A sink that also wants the session's status: told it before each tick.
/// Reading the counters costs a map lookup per counter, so only sinks that
/// show them ask.
public protocol LiveStatusSink: SampleSink {
    func update(_ status: LiveStatus)
}
