/// How and when a profile was recorded: what formats with a time axis or a
/// sampling period need, and what a flame graph's subtitle says.
public struct RecordingInfo: Sendable, Equatable {
    /// Samples per second on each CPU.
    public var frequency: Int
    /// When sampling began, on CLOCK_MONOTONIC (the clock of the samples'
    /// timestamps).
    public var startNanoseconds: UInt64
    /// When sampling began, in nanoseconds since the Unix epoch.
    public var startUnixNanoseconds: UInt64
    public var durationNanoseconds: UInt64
    /// Processes that had at least one sample.
    public var processCount: Int

    public init(frequency: Int, startNanoseconds: UInt64, startUnixNanoseconds: UInt64,
                durationNanoseconds: UInt64, processCount: Int) {
        self.frequency = frequency
        self.startNanoseconds = startNanoseconds
        self.startUnixNanoseconds = startUnixNanoseconds
        self.durationNanoseconds = durationNanoseconds
        self.processCount = processCount
    }

    /// The time one on-CPU sample stands for.
    public var periodNanoseconds: UInt64 { 1_000_000_000 / UInt64(max(frequency, 1)) }

    public var durationSeconds: Double { Double(durationNanoseconds) / 1e9 }
}
