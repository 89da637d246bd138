/// The samples in time that the timeline formats (chrome, speedscope) draw,
/// kept in at most `ceiling` entries however long the recording runs.
///
/// Until the ceiling, an entry is one sample. When it fills, each thread's
/// entries are merged in consecutive pairs and from then on each new entry
/// takes up to twice as many of its thread's consecutive samples; again
/// each time it fills. The whole recording stays on the timeline, at a
/// coarser grain: a thread's entries still add up to its samples and its
/// time exactly, and the aggregated profile is not touched. A merged entry
/// starts at its first sample and shows the stack of the heavier part, so a
/// long wait off CPU is not drawn as the few on-CPU samples beside it.
///
/// Why a ceiling: each sample costs 32 bytes here and, in a trace of deep
/// stacks changing from sample to sample, over a kilobyte of JSON to write
/// at the stop; a trace of several hundred megabytes is also past what the
/// viewers that read the file as one JavaScript string can load.
struct SampleTimeline {
    struct Entry: Equatable {
        /// The stack's slot in the sink; once the sink set its stacks
        /// aside, -1 - the stack's index among those set aside.
        var slot: Int32
        /// The thread frame's id in the session's frame table, until the
        /// sink sets its stacks aside and gives it a key of its own. (In an
        /// `--interval` window that spans the table's turnover, two threads
        /// may share an id, and their samples may then be merged.)
        var thread: Int32
        var cpu: UInt32
        /// Samples merged into this entry.
        var samples: UInt32
        /// The first sample's.
        var timestampNanoseconds: UInt64
        var weightNanoseconds: UInt64

        /// Takes `later` in: a part that outweighs all the rest gives the
        /// entry its stack (a tie keeps the earlier).
        mutating func absorb(_ later: Entry) {
            if later.weightNanoseconds > weightNanoseconds {
                slot = later.slot
                cpu = later.cpu
            }
            samples += later.samples
            weightNanoseconds += later.weightNanoseconds
        }
    }

    let ceiling: Int
    private(set) var entries: [Entry] = []
    /// Samples a new entry takes at most: 1 until the ceiling is first met.
    private(set) var samplesPerEntry: UInt32 = 1
    /// Per thread, its last entry while that entry takes more samples.
    private var open: [Int32: Int] = [:]
    private var coarsenAt: Int
    /// Times the timeline was full: a few, logarithmic in its samples.
    private(set) var coarsenings = 0

    init(ceiling: Int) {
        precondition(ceiling >= 2)
        self.ceiling = ceiling
        coarsenAt = ceiling
    }

    mutating func append(slot: Int32, thread: Int32, cpu: UInt32, timestampNanoseconds: UInt64, weightNanoseconds: UInt64) {
        let sample = Entry(slot: slot, thread: thread, cpu: cpu, samples: 1, timestampNanoseconds: timestampNanoseconds,
                           weightNanoseconds: weightNanoseconds)
        guard samplesPerEntry > 1 else {
            entries.append(sample)
            if entries.count >= coarsenAt { coarsen() }
            return
        }
        if let index = open[thread] {
            entries[index].absorb(sample)
            if entries[index].samples >= samplesPerEntry { open[thread] = nil }
            return
        }
        open[thread] = entries.count
        entries.append(sample)
        if entries.count >= coarsenAt { coarsen() }
    }

    /// The sink set its stacks aside (`ProfileSink.stacksRetired`): each
    /// entry of a stack still in the sink (a slot of 0 or more) gets the
    /// slot and the thread key these give; entries set aside before keep
    /// theirs. Open entries close, since new samples come with new keys.
    mutating func renumberSlots(_ slot: (Int32) -> Int32, threads thread: (Int32) -> Int32) {
        for index in entries.indices where entries[index].slot >= 0 {
            entries[index].slot = slot(entries[index].slot)
            entries[index].thread = thread(entries[index].thread)
        }
        open.removeAll()
    }

    /// Merges each thread's entries in consecutive pairs, doubling the
    /// grain, until at most half the ceiling is left or no thread has two.
    /// A recording of more threads than that keeps one entry per thread:
    /// the next merge waits for twice as many entries, so appends stay
    /// cheap.
    private mutating func coarsen() {
        coarsenings += 1
        var waiting: [Int32: Int] = [:]
        repeat {
            let before = entries.count
            waiting.removeAll(keepingCapacity: true)
            var kept = 0
            for index in entries.indices {
                let entry = entries[index]
                if let partner = waiting.removeValue(forKey: entry.thread) {
                    entries[partner].absorb(entry)
                } else {
                    waiting[entry.thread] = kept
                    entries[kept] = entry
                    kept += 1
                }
            }
            entries.removeLast(entries.count - kept)
            guard kept < before else { break }
            samplesPerEntry = samplesPerEntry <= UInt32.max / 2 ? samplesPerEntry * 2 : .max
        } while entries.count > ceiling / 2
        // A thread's last entry may be full or not: new samples start new
        // entries, which costs at most one entry per thread.
        open.removeAll()
        coarsenAt = max(ceiling, entries.count * 2)
    }
}
