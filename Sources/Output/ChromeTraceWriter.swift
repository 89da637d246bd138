import Aggregation

/// Chrome's trace-event format (JSON object form), read by chrome://tracing,
/// Perfetto and speedscope: per thread, a timeline of complete ("X")
/// events, one per run of samples in which a frame stays on the stack, as
/// py-spy's `chrometrace` draws it. Metadata ("M") events name the
/// processes and threads.
///
/// Each sample covers its weight in time (its CPU nanoseconds, else one
/// sampling period) from its timestamp, or from the end of the thread's
/// previous sample if that one had not ended yet, so a thread's events at
/// depth 0 add up to exactly its samples' time. A gap between samples
/// closes every frame. Without a timeline, the aggregated stacks are laid
/// end to end per thread in folded order.
public struct ChromeTraceWriter: ProfileWriter {
    public init() {}

    public func write(_ profile: Profile, to stream: ByteStream) throws {
        let timeType = profile.sampleTypes.firstIndex { $0.unit == .nanoseconds }
        let period = profile.recording?.periodNanoseconds ?? 10_000_000
        let samples = ThreadSamples(profile, sampleType: timeType ?? profile.defaultSampleType)
        let origin = profile.recording?.startNanoseconds
            ?? profile.timeline?.first?.timestampNanoseconds ?? 0
        var names = EventNames(profile)

        var out = ChunkedText(stream)
        try out.append("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"exporter\":\"pyrograph\"},\"traceEvents\":[\n")
        var first = true
        func emit(_ event: String) throws {
            try out.append((first ? "" : ",\n") + event)
            first = false
        }
        var namedProcesses = Set<Int32>()
        for group in samples.groups {
            if namedProcesses.insert(group.pid).inserted, let process = group.process {
                try emit("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\(group.pid),\"tid\":\(group.tid),"
                    + "\"args\":{\"name\":\(JSONText.quoted(process.function))}}")
            }
            let threadName = group.thread?.function ?? group.process?.function ?? ""
            try emit("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":\(group.pid),\"tid\":\(group.tid),"
                + "\"args\":{\"name\":\(JSONText.quoted(threadName))}}")

            // A large trace has millions of frame events: they are written
            // as bytes, the thread's part made once. Each follows the
            // thread's name event, so none is the first.
            let thread = Array("\"pid\":\(group.pid),\"tid\":\(group.tid),\"ts\":".utf8)
            // Frames on the stack now: (frame, start), root first.
            var open: [(frame: Int32, start: UInt64)] = []
            var end: UInt64 = 0
            func close(downTo depth: Int, at time: UInt64) throws {
                while open.count > depth {
                    let (frame, start) = open.removeLast()
                    out.append(bytes: Self.completeEventStart)
                    names.append(frame, to: &out)
                    out.append(bytes: thread)
                    Self.appendMicroseconds(start, to: &out)
                    out.append(bytes: Self.durationKey)
                    Self.appendMicroseconds(time - start, to: &out)
                    out.append(byte: UInt8(ascii: "}"))
                    try out.flushIfFull()
                }
            }
            for sample in group.samples {
                let weight = timeType == nil ? sample.value * period : sample.value
                let stamp = sample.timestampNanoseconds.map { $0 >= origin ? $0 - origin : 0 } ?? end
                let start = max(stamp, end)
                var common = 0
                if start == end {
                    while common < open.count, common < sample.frames.count,
                          open[common].frame == sample.frames[sample.frames.startIndex + common] { common += 1 }
                }
                try close(downTo: common, at: end)
                for frame in sample.frames.dropFirst(common) { open.append((frame, start)) }
                end = start + weight
            }
            try close(downTo: 0, at: end)
        }
        try out.append("\n]}\n")
        try out.flush()
    }

    private static let completeEventStart = Array(",\n{\"ph\":\"X\",\"name\":".utf8)
    private static let durationKey = Array(",\"dur\":".utf8)

    /// Nanoseconds as microseconds with three decimals, exactly:
    /// 1234567 → 1234.567.
    private static func appendMicroseconds(_ nanoseconds: UInt64, to out: inout ChunkedText) {
        out.append(decimal: nanoseconds / 1000)
        let fraction = nanoseconds % 1000
        out.append(byte: UInt8(ascii: "."))
        out.append(byte: UInt8(ascii: "0") + UInt8(fraction / 100))
        out.append(byte: UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        out.append(byte: UInt8(ascii: "0") + UInt8(fraction % 10))
    }

    /// Each frame's `name` and `cat` values as JSON bytes, made the first
    /// time the frame is written: most frames of a large profile never are
    /// in a trace that merges runs.
    private struct EventNames {
        let profile: Profile
        private var bytes: [UInt8] = []
        private var ranges: [Range<Int>?]

        init(_ profile: Profile) {
            self.profile = profile
            ranges = Array(repeating: nil, count: profile.frames.count)
        }

        /// `"NAME","cat":"KIND",`
        mutating func append(_ frame: Int32, to out: inout ChunkedText) {
            let index = Int(frame)
            if ranges[index] == nil {
                let start = bytes.count
                let frame = profile.frames[index]
                bytes.append(contentsOf: (JSONText.quoted(FrameNaming.displayName(frame)) + ",\"cat\":\"\(frame.kind)\",").utf8)
                ranges[index] = start..<bytes.count
            }
            bytes.withUnsafeBytes { out.append(bytes: UnsafeRawBufferPointer(rebasing: $0[ranges[index]!])) }
        }
    }
}
