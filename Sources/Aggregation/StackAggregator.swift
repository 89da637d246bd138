/// Turns symbolized samples into a `Profile`, applying the user's view:
/// per-thread frames and which kinds of frames to keep.
public struct StackAggregator: Sendable {
    public struct Options: Sendable, Equatable {
        /// Insert a `THREADNAME (TID)` frame below the process frame.
        public var perThread = false
        public var includeKernel = true
        /// Native frames; false gives py-spy-like Python-only stacks.
        public var includeNative = true

        public init(perThread: Bool = false, includeKernel: Bool = true, includeNative: Bool = true) {
            self.perThread = perThread
            self.includeKernel = includeKernel
            self.includeNative = includeNative
        }
    }

    /// One sample whose frames are already named; `frames` is root first and
    /// holds neither the process nor the thread frame.
    public struct Sample: Sendable {
        public var process: Frame
        public var thread: Frame
        public var frames: [Frame]
        public var count: UInt64

        public init(process: Frame, thread: Frame, frames: [Frame], count: UInt64 = 1) {
            self.process = process
            self.thread = thread
            self.frames = frames
            self.count = count
        }
    }

    public let options: Options
    public private(set) var profile = Profile()

    public init(options: Options = Options()) {
        self.options = options
    }

    public mutating func add(_ sample: Sample) {
        var stack: [Frame] = [sample.process]
        stack.reserveCapacity(sample.frames.count + 2)
        if options.perThread { stack.append(sample.thread) }
        for frame in sample.frames where keeps(frame) {
            stack.append(frame)
        }
        profile.add(stack, count: sample.count)
    }

    func keeps(_ frame: Frame) -> Bool {
        switch frame.kind {
        case .kernel: return options.includeKernel
        case .native: return options.includeNative
        case .process, .thread, .python, .annotation: return true
        }
    }
}
