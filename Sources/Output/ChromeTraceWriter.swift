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
        let names = profile.frames.map { JSONText.quoted(FrameNaming.displayName($0)) }

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
                try emit("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\(group.pid),\"tid\":\(group.pid),"
                    + "\"args\":{\"name\":\(JSONText.quoted(process.function))}}")
            }
            let threadName = group.thread?.function ?? group.process?.function ?? ""
            try emit("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":\(group.pid),\"tid\":\(group.tid),"
                + "\"args\":{\"name\":\(JSONText.quoted(threadName))}}")

            // Frames on the stack now: (frame, start), root first.
            var open: [(frame: Int32, start: UInt64)] = []
            var end: UInt64 = 0
            func close(downTo depth: Int, at time: UInt64) throws {
                while open.count > depth {
                    let (frame, start) = open.removeLast()
                    try emit("{\"ph\":\"X\",\"name\":\(names[Int(frame)]),\"cat\":\"\(profile.frames[Int(frame)].kind)\","
                        + "\"pid\":\(group.pid),\"tid\":\(group.tid),\"ts\":\(JSONText.microseconds(fromNanoseconds: start)),"
                        + "\"dur\":\(JSONText.microseconds(fromNanoseconds: time - start))}")
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
}
