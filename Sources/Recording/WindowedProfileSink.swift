import Aggregation
import CPyrograph

/// Cuts a recording into windows of fixed length by each sample's kernel
/// timestamp, so every sample belongs to exactly one window: window k holds
/// the samples stamped in [start + k·length, start + (k+1)·length). A window
/// is handed over (`onWindow`) once the session's clock is `grace` past its
/// end and the reader has caught up with it (a sample stamped `grace` past
/// the end has been read, or `maximumWait` has passed: a loaded host's
/// reader may lag, an idle host sends nothing); the rest at `finish`. Only open windows are kept: memory does not grow
/// with the number of windows.
public final class WindowedProfileSink: SampleSink {
    /// One finished window.
    public struct Window {
        /// 0 for the first.
        public var index: Int
        /// CLOCK_REALTIME at the window's start, for its name.
        public var startUnixNanoseconds: UInt64
        public var profile: Profile
    }

    public let lengthNanoseconds: UInt64
    private let graceSeconds: Double
    private let maximumWaitSeconds: Double
    /// The newest sample's timestamp.
    private var latestNanoseconds: UInt64 = 0
    private let makeSink: () -> ProfileSink
    /// How each window's profile shows its frames (ProfileSink.profile).
    private let naming: ProfileView
    private let onWindow: (Window) -> Void
    private var recording: RecordingInfo
    private var open: [Int: (sink: ProfileSink, pids: Set<Int32>)] = [:]
    /// Windows below this one were handed over.
    private var firstOpen = 0
    private var started = false
    /// Samples of a window already handed over (read past the grace): not
    /// put in a later window, where their timestamp does not belong.
    public private(set) var lateSamples = 0
    public private(set) var samplesConsumed = 0
    public private(set) var windowsFinished = 0
    /// Windows whose timeline was coarsened past its ceiling, and the most
    /// samples one entry took in any of them.
    public private(set) var coarsenedTimelines = 0
    public private(set) var mostTimelineSamplesPerEntry = 1
    /// Stacks set aside on disk in all windows (`ProfileSink.stacksRetired`),
    /// and the windows where that failed (their stacks stayed in memory, or
    /// could not be read back).
    public private(set) var spilledChunks = 0
    public private(set) var spilledBytes = 0
    public private(set) var spillFailures: [StackSpillFile.Failure] = []

    /// `recording` gives the frequency; each window's profile gets its own
    /// start, duration and process count.
    public init(lengthSeconds: Double, graceSeconds: Double = 0.5, maximumWaitSeconds: Double = 5, recording: RecordingInfo,
                naming: ProfileView = .unchanged, makeSink: @escaping () -> ProfileSink,
                onWindow: @escaping (Window) -> Void) {
        precondition(lengthSeconds > 0)
        lengthNanoseconds = UInt64(lengthSeconds * 1e9)
        self.graceSeconds = graceSeconds
        self.maximumWaitSeconds = max(maximumWaitSeconds, graceSeconds)
        self.recording = recording
        self.makeSink = makeSink
        self.naming = naming
        self.onWindow = onWindow
    }

    public func recordingStarted(monotonicNanoseconds: UInt64, unixNanoseconds: UInt64) {
        recording.startNanoseconds = monotonicNanoseconds
        recording.startUnixNanoseconds = unixNanoseconds
        started = true
    }

    public func consume(_ sample: SymbolizedSample) {
        // Samples stamped before the start (sampling begins a moment before
        // the clock) belong to the first window.
        let since = sample.timestampNanoseconds > recording.startNanoseconds
            ? sample.timestampNanoseconds - recording.startNanoseconds : 0
        let index = Int(since / lengthNanoseconds)
        latestNanoseconds = max(latestNanoseconds, sample.timestampNanoseconds)
        guard index >= firstOpen else {
            lateSamples += 1
            return
        }
        samplesConsumed += 1
        if open[index] == nil { open[index] = (makeSink(), []) }
        open[index]!.sink.consume(sample)
        if let pid = sample.stack.process.id { open[index]!.pids.insert(pid) }
    }

    public func tick(elapsedSeconds: Double) {
        guard started else { return }
        let length = Double(lengthNanoseconds) / 1e9
        while true {
            let end = Double(firstOpen + 1) * length
            let caughtUp = latestNanoseconds >= recording.startNanoseconds + UInt64((end + graceSeconds) * 1e9)
            guard end + (caughtUp ? graceSeconds : maximumWaitSeconds) <= elapsedSeconds else { break }
            finishWindow(firstOpen, durationNanoseconds: lengthNanoseconds)
        }
    }

    public func stacksRetired() {
        for (_, window) in open { window.sink.stacksRetired() }
    }

    /// Hands over every window left, the last one cut at `elapsedSeconds`.
    public func finish(elapsedSeconds: Double) {
        let stop = UInt64(max(elapsedSeconds, 0) * 1e9)
        let last = max(firstOpen, Int(stop / lengthNanoseconds) - (stop % lengthNanoseconds == 0 ? 1 : 0),
                       open.keys.max() ?? 0)
        while firstOpen <= last {
            let windowStart = UInt64(firstOpen) * lengthNanoseconds
            let duration = stop > windowStart ? min(lengthNanoseconds, stop - windowStart) : 0
            finishWindow(firstOpen, durationNanoseconds: duration)
        }
    }

    private func finishWindow(_ index: Int, durationNanoseconds: UInt64) {
        let entry = open.removeValue(forKey: index)
        firstOpen = index + 1
        let offset = UInt64(index) * lengthNanoseconds
        var info = recording
        info.startNanoseconds += offset
        info.startUnixNanoseconds += offset
        info.durationNanoseconds = durationNanoseconds
        info.processCount = entry?.pids.count ?? 0
        let sink = entry?.sink ?? makeSink()
        windowsFinished += 1
        if sink.timelineSamplesPerEntry > 1 {
            coarsenedTimelines += 1
            mostTimelineSamplesPerEntry = max(mostTimelineSamplesPerEntry, sink.timelineSamplesPerEntry)
        }
        let profile = sink.profile(recording: info, naming: naming)
        spilledChunks += sink.spilledChunks
        spilledBytes += sink.spilledBytes
        if let failure = sink.spillFailure { spillFailures.append(failure) }
        onWindow(Window(index: index, startUnixNanoseconds: info.startUnixNanoseconds, profile: profile))
        // The window's tables are freed in the middle of the heap, where
        // malloc keeps them: hand the pages back, or RSS climbs window after
        // window (soak, 60 s windows: 7 MB a minute).
        pyro_release_free_memory()
    }
}
