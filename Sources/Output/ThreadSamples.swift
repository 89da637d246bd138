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
        /// The process and thread frames' indices, -1 for none: a key
        /// made per sample, so no array.
        struct GroupKey: Hashable {
            var process: Int32 = -1
            var thread: Int32 = -1
        }
        var groupIndex: [GroupKey: Int] = [:]
        var found: [Group] = []
        // Per stack, its group and the frames it drops, once known (-1
        // before): a timeline has many samples of each stack.
        var groupOfStack = [Int32](repeating: -1, count: profile.stacks.count)
        var droppedOfStack = [UInt8](repeating: 0, count: profile.stacks.count)
        func add(_ stackIndex: Int, value: UInt64, timestamp: UInt64?) {
            guard value > 0 else { return }
            let frames = profile.stacks[stackIndex].frames
            if groupOfStack[stackIndex] >= 0 {
                found[Int(groupOfStack[stackIndex])].samples.append(
                    Sample(frames: frames.dropFirst(Int(droppedOfStack[stackIndex])), value: value, timestampNanoseconds: timestamp))
                return
            }
            var key = GroupKey()
            var drop = 0
            if let first = frames.first, profile.frames[Int(first)].kind == .process {
                key.process = first
                drop = 1
            }
            if frames.count > drop, profile.frames[Int(frames[drop])].kind == .thread {
                key.thread = frames[drop]
                drop += 1
            }
            let index: Int
            if let known = groupIndex[key] {
                index = known
            } else {
                var group = Group()
                if key.process >= 0 { group.process = profile.frames[Int(key.process)] }
                if key.thread >= 0 { group.thread = profile.frames[Int(key.thread)] }
                index = found.count
                found.append(group)
                groupIndex[key] = index
            }
            groupOfStack[stackIndex] = Int32(index)
            droppedOfStack[stackIndex] = UInt8(drop)
            found[index].samples.append(Sample(frames: frames.dropFirst(drop), value: value, timestampNanoseconds: timestamp))
        }
        if let timeline = profile.timeline, !timeline.isEmpty {
            for sample in timeline {
                add(sample.stack, value: sample.values[sampleType],
                    timestamp: sample.timestampNanoseconds)
            }
            isTimeline = true
        } else {
            let names = profile.frames.map(FrameNaming.displayName)
            for stack in FoldedWriter.order(profile.stacks, names: FoldedWriter.NameBytes(names)) {
                add(stack, value: profile.stacks[stack].values[sampleType], timestamp: nil)
            }
            isTimeline = false
        }
        // Each name made once: a whole-host recording has thousands of
        // groups, and making names in every comparison took a tenth of a stop.
        let keys = found.map { ($0.name, $0.pid, $0.tid) }
        groups = found.indices.sorted { keys[$0] < keys[$1] }.map { found[$0] }
    }
}
