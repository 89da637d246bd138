/// Distinct stacks with their values: the one model every output format and
/// command reads. Frames are interned once in `frames`; a stack is a list of
/// indices into it, root first, with one value per sample type.
public struct Profile: Sendable, Equatable {
    public struct Stack: Sendable, Equatable {
        /// Indices into `Profile.frames`, root first.
        public var frames: [Int32]
        /// One per `Profile.sampleTypes`.
        public var values: [UInt64]
    }

    /// One sample in time, for formats that draw a timeline.
    public struct TimedSample: Sendable, Equatable {
        /// Index into `Profile.stacks`.
        public var stack: Int
        /// CLOCK_MONOTONIC, as the kernel stamped the sample.
        public var timestampNanoseconds: UInt64
        public var cpu: UInt32
        public var values: [UInt64]

        public init(stack: Int, timestampNanoseconds: UInt64, cpu: UInt32, values: [UInt64]) {
            self.stack = stack
            self.timestampNanoseconds = timestampNanoseconds
            self.cpu = cpu
            self.values = values
        }
    }

    public let sampleTypes: [SampleType]
    /// The value a writer that shows one value shows (a flame graph's widths).
    public var defaultSampleType: Int
    public private(set) var frames: [Frame] = []
    public private(set) var stacks: [Stack] = []
    /// Per sample type, the sum over all stacks.
    public private(set) var totals: [UInt64]
    /// How and when the profile was recorded, where it was.
    public var recording: RecordingInfo?
    /// Samples in time order, when the recording kept them.
    public private(set) var timeline: [TimedSample]?

    /// Frames by their hash: ids into `frames`, so a frame is stored once
    /// (a dictionary from frame to index stores it twice).
    private var frameIndex = IDHashTable()
    /// Stacks by their frames: ids into `stacks`, hashed by `hash(of:)`.
    private var stackIndex = IDHashTable()

    public init(sampleTypes: [SampleType] = [.samples], defaultSampleType: Int = 0) {
        precondition(!sampleTypes.isEmpty && sampleTypes.indices.contains(defaultSampleType))
        self.sampleTypes = sampleTypes
        self.defaultSampleType = defaultSampleType
        totals = Array(repeating: 0, count: sampleTypes.count)
    }

    /// Room for this many stacks and frames, so a large profile is not
    /// rehashed as it grows.
    public mutating func reserveCapacity(stacks stackCount: Int, frames frameCount: Int = 0) {
        stacks.reserveCapacity(stackCount)
        stackIndex.reserveCapacity(stackCount)
        frames.reserveCapacity(frameCount)
        frameIndex.reserveCapacity(frameCount)
    }

    /// Adds values to a stack (root first); returns the stack's index, or nil
    /// for an empty stack or no value.
    @discardableResult
    public mutating func add(_ stack: [Frame], values: [UInt64]) -> Int? {
        precondition(values.count == sampleTypes.count, "one value per sample type")
        guard !stack.isEmpty, values.contains(where: { $0 > 0 }) else { return nil }
        var key: [Int32] = []
        key.reserveCapacity(stack.count)
        for frame in stack { key.append(intern(frame)) }
        return add(frameIndices: key, values: values)
    }

    /// Adds values to a stack of frames already interned with `intern`
    /// (root first): a caller that keeps its own frame table hashes each of
    /// its frames once, not once per stack.
    @discardableResult
    public mutating func add(frameIndices key: [Int32], values: [UInt64]) -> Int? {
        precondition(values.count == sampleTypes.count, "one value per sample type")
        guard !key.isEmpty, values.contains(where: { $0 > 0 }) else { return nil }
        let hash = Self.hash(of: key)
        let index: Int
        if let existing = stackIndex.find(hash: hash, where: { stacks[Int($0)].frames == key }) {
            index = Int(existing)
        } else {
            index = stacks.count
            precondition(index < Int32.max, "more stacks than a profile can number")
            stacks.append(Stack(frames: key, values: Array(repeating: 0, count: sampleTypes.count)))
            stackIndex.insert(Int32(index), hash: hash) { Self.hash(of: stacks[Int($0)].frames) }
        }
        for (type, value) in values.enumerated() {
            stacks[index].values[type] += value
            totals[type] += value
        }
        return index
    }

    /// Adds `count` to the first sample type (the others get nothing).
    @discardableResult
    public mutating func add(_ stack: [Frame], count: UInt64 = 1) -> Int? {
        var values = Array(repeating: UInt64(0), count: sampleTypes.count)
        values[0] = count
        return add(stack, values: values)
    }

    /// Sets one sample type's value of every stack from the stack, and its
    /// total: a wall-clock profile counts each stack's samples from its
    /// nanoseconds once, after everything that merges stacks.
    public mutating func setValues(ofType type: Int, _ value: (Stack) -> UInt64) {
        totals[type] = 0
        for index in stacks.indices {
            stacks[index].values[type] = value(stacks[index])
            totals[type] += stacks[index].values[type]
        }
    }

    /// Keeps samples in time; `stack` is an index `add` returned.
    public mutating func appendTimeline(_ sample: TimedSample) {
        precondition(stacks.indices.contains(sample.stack))
        if timeline == nil { timeline = [] }
        timeline!.append(sample)
    }

    public mutating func sortTimeline() {
        timeline?.sort { $0.timestampNanoseconds < $1.timestampNanoseconds }
    }

    /// The frames of one stack, root first.
    public func frames(of stack: Stack) -> [Frame] {
        stack.frames.map { frames[Int($0)] }
    }

    public var isEmpty: Bool { stacks.isEmpty }

    /// The sum of the sample-count type, or of the default type if the
    /// profile counts no samples.
    public var totalSamples: UInt64 {
        totals[sampleTypes.firstIndex(of: .samples) ?? defaultSampleType]
    }

    /// Adds another profile of the same sample types; returns the index
    /// here of each of its stacks. Each of its frames is hashed once.
    @discardableResult
    public mutating func merge(_ other: Profile) -> [Int] {
        precondition(other.sampleTypes == sampleTypes, "profiles of different sample types")
        let frameIndices = other.frames.map { intern($0) }
        var key: [Int32] = []
        return other.stacks.map { stack in
            key.removeAll(keepingCapacity: true)
            for frame in stack.frames { key.append(frameIndices[Int(frame)]) }
            // Never nil: `other` holds no empty stack and no stack without a value.
            return add(frameIndices: key, values: stack.values)!
        }
    }

    /// The frame's index in `frames`, added if new.
    public mutating func intern(_ frame: Frame) -> Int32 {
        intern(frame, hash: frame.hashValue)
    }

    /// `intern` of a frame whose `hashValue` the caller has: one made on
    /// another thread (`ViewedPart`) costs this one only the lookup.
    public mutating func intern(_ frame: Frame, hash: Int) -> Int32 {
        if let index = frameIndex.find(hash: hash, where: { frames[Int($0)] == frame }) { return index }
        precondition(frames.count < Int32.max, "more frames than a profile can number")
        let index = Int32(frames.count)
        frames.append(frame)
        frameIndex.insert(index, hash: hash) { frames[Int($0)].hashValue }
        return index
    }
}

extension Profile {
    /// Profiles are equal when they hold the same things; their indices,
    /// whose layout depends on the order things were added, are not compared.
    public static func == (a: Profile, b: Profile) -> Bool {
        a.sampleTypes == b.sampleTypes && a.defaultSampleType == b.defaultSampleType && a.frames == b.frames
            && a.stacks == b.stacks && a.totals == b.totals && a.recording == b.recording && a.timeline == b.timeline
    }

    /// A stack's frame indices hashed word by word (multiply and rotate):
    /// a recording's stop hashes every distinct stack, some hundreds of
    /// frames deep, and `IDHashTable` spreads the bits it is given.
    static func hash(of frames: [Int32]) -> Int {
        var hash: UInt64 = 0
        for frame in frames {
            hash = (hash.rotatedLeft(by: 5) ^ UInt64(UInt32(bitPattern: frame))) &* 0x517C_C1B7_2722_0A95
        }
        return Int(truncatingIfNeeded: hash)
    }
}

private extension UInt64 {
    func rotatedLeft(by bits: UInt64) -> UInt64 { self << bits | self >> (64 - bits) }
}
