import Aggregation

/// A profile's samples cut by thread, for the formats that show one
/// timeline or one profile per thread (speedscope, Chrome's trace events).
///
/// A stack's thread is its thread frame, which the aggregator inserts under
/// the process frame when the profile is per thread (`record` turns that on
/// for these formats); a profile without thread frames is cut by process.
/// The process and thread frames are left out of the samples' frames: they
/// name the group instead.
struct ThreadSamples {
    struct Group {
        /// The process frame, and the thread frame when there is one.
        var process: Frame?
        var thread: Frame?
        var samples: [Sample] = []

        var pid: Int32 { process?.id ?? 0 }
        var tid: Int32 { thread?.id ?? pid }

        var name: String {
            [process, thread].compactMap { $0.map(FrameNaming.displayName) }.joined(separator: " / ")
        }
    }

    struct Sample {
        /// Indices into `Profile.frames`, root first, without the process
        /// and thread frames.
        var frames: ArraySlice<Int32>
        /// The value of the chosen sample type.
        var value: UInt64
        /// CLOCK_MONOTONIC, for samples from the timeline.
        var timestampNanoseconds: UInt64?
    }

    /// Groups in a stable order: by process name, then thread name.
    let groups: [Group]
    /// True when the samples are the timeline's, in time order; false when
    /// they are the aggregated stacks, one sample per stack.
    let isTimeline: Bool

    init(_ profile: Profile, sampleType: Int) {
        var byKey: [[Int32]: Group] = [:]
        func key(_ stack: Profile.Stack) -> (key: [Int32], drop: Int) {
            let frames = stack.frames
            var drop = 0
            if let first = frames.first, profile.frames[Int(first)].kind == .process { drop = 1 }
            if frames.count > drop, profile.frames[Int(frames[drop])].kind == .thread { drop += 1 }
            return (Array(frames.prefix(drop)), drop)
        }
        func add(_ stack: Profile.Stack, value: UInt64, timestamp: UInt64?) {
            guard value > 0 else { return }
            let (groupKey, drop) = key(stack)
            if byKey[groupKey] == nil {
                var group = Group()
                for index in groupKey {
                    let frame = profile.frames[Int(index)]
                    if frame.kind == .process { group.process = frame } else { group.thread = frame }
                }
                byKey[groupKey] = group
            }
            byKey[groupKey]!.samples.append(Sample(frames: stack.frames.dropFirst(drop), value: value,
                                                   timestampNanoseconds: timestamp))
        }
        if let timeline = profile.timeline, !timeline.isEmpty {
            for sample in timeline {
                add(profile.stacks[sample.stack], value: sample.values[sampleType],
                    timestamp: sample.timestampNanoseconds)
            }
            isTimeline = true
        } else {
            let names = profile.frames.map(FrameNaming.displayName)
            for stack in FoldedWriter.sorted(profile.stacks, names: names) {
                add(stack, value: stack.values[sampleType], timestamp: nil)
            }
            isTimeline = false
        }
        groups = byKey.values.sorted { a, b in
            (a.name, a.pid, a.tid) < (b.name, b.pid, b.tid)
        }
    }
}
