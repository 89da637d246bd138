/// Turns symbolized samples into a `Profile`, applying the user's view:
/// per-thread frames and which kinds of frames to keep. Pure: no I/O.
public struct StackAggregator: Sendable {
    public struct Options: Sendable, Equatable {
        /// Insert a thread frame below the process frame.
        public var perThread = false
        public var includeKernel = true
        /// Native frames; false gives py-spy-like Python-only stacks.
        public var includeNative = true
        /// One root frame per command rather than per process: a pool of 48
        /// workers reads as one tower.
        public var mergeProcesses = false

        public init(perThread: Bool = false, includeKernel: Bool = true, includeNative: Bool = true,
                    mergeProcesses: Bool = false) {
            self.perThread = perThread
            self.includeKernel = includeKernel
            self.includeNative = includeNative
            self.mergeProcesses = mergeProcesses
        }
    }

    /// One symbolized stack with its values; `frames` is root first and
    /// holds neither the process nor the thread frame.
    public struct Sample: Sendable {
        public var process: Frame
        public var thread: Frame
        public var frames: [Frame]
        /// One per sample type of the profile.
        public var values: [UInt64]

        public init(process: Frame, thread: Frame, frames: [Frame], values: [UInt64]) {
            self.process = process
            self.thread = thread
            self.frames = frames
            self.values = values
        }

        /// A sample of a profile that counts samples only.
        public init(process: Frame, thread: Frame, frames: [Frame], count: UInt64 = 1) {
            self.init(process: process, thread: thread, frames: frames, values: [count])
        }
    }

    public let options: Options
    public private(set) var profile: Profile

    public init(options: Options = Options(), sampleTypes: [SampleType] = [.samples]) {
        self.options = options
        self.profile = Profile(sampleTypes: sampleTypes)
    }

    /// Returns the index of the sample's stack in the profile.
    @discardableResult
    public mutating func add(_ sample: Sample) -> Int? {
        var process = sample.process
        if options.mergeProcesses { process.id = nil }
        var stack: [Frame] = [process]
        stack.reserveCapacity(sample.frames.count + 2)
        if options.perThread { stack.append(sample.thread) }
        for frame in sample.frames where keeps(frame) {
            stack.append(frame)
        }
        return profile.add(stack, values: sample.values)
    }

    public mutating func appendTimeline(_ sample: Profile.TimedSample) {
        profile.appendTimeline(sample)
    }

    public mutating func setRecording(_ info: RecordingInfo) {
        profile.recording = info
    }

    /// The finished profile, its timeline in time order.
    public func finished() -> Profile {
        var result = profile
        result.sortTimeline()
        return result
    }

    /// Whether the view keeps a frame of this kind.
    public func keeps(_ frame: Frame) -> Bool {
        switch frame.kind {
        case .kernel: return options.includeKernel
        case .native: return options.includeNative
        case .process, .thread, .python, .annotation: return true
        }
    }
}
