/// The session's distinct stacks by raw key, kept per process so that an
/// exited process's keys go once no sample of it can still arrive: the
/// named stacks live on in the sinks that counted them, but the lookup
/// table holds only live processes.
struct KnownStacks {
    struct Entry {
        var stack: SymbolizedStack
        /// Times it was named with a Python frame unreadable.
        var unnamedTries = 0
    }

    private var byProcess: [Int32: [RawStackKey: Entry]] = [:]
    private var retired = RetiredProcesses<Int32>()
    /// Stacks named since the start or the last `forgetAll`: what the
    /// ceiling (`--max-stacks`) counts.
    private(set) var named = 0
    /// Stacks named since the keys were last dropped (`forgetAll`,
    /// `forgetKeys`): what memory the session's stacks take goes by it.
    private(set) var held = 0
    /// Stacks named in the whole recording.
    private(set) var namedInRecording = 0

    subscript(key: RawStackKey) -> Entry? {
        get { byProcess[key.pid]?[key] }
        set { byProcess[key.pid, default: [:]][key] = newValue }
    }

    /// The id for a new stack, counted.
    mutating func nextID() -> Int {
        named += 1
        held += 1
        namedInRecording += 1
        return namedInRecording - 1
    }

    mutating func processExited(_ pid: Int32, now: Double) {
        retired.retire(pid, pid, now: now)
    }

    /// Forgets the keys of processes that exited long enough ago.
    mutating func evictRetired(now: Double) {
        for pid in retired.evict(now: now) {
            byProcess.removeValue(forKey: pid)
        }
    }

    /// A new generation: every stack is named afresh when next seen.
    mutating func forgetAll() {
        forgetKeys()
        named = 0
    }

    /// Every stack is named afresh when next seen, but the ceiling goes on
    /// counting: the stacks named so far stay in the recording's profile
    /// (set aside by the sinks).
    mutating func forgetKeys() {
        byProcess.removeAll()
        held = 0
    }

    var liveProcesses: Int { byProcess.count }
}
