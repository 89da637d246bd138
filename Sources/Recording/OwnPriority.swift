import CPyrograph
import Synchronization

/// pyrograph's own scheduling priority while it records.
///
/// On a host whose CPUs are saturated, the scheduler shares them out per
/// thread: among 1,000 busy threads, a reader at the same nice value gets a
/// few milliseconds a second, far less than reading the samples and naming
/// new processes' frames takes, so samples pile up in the ring buffer and
/// new interpreters are never named. Raising pyrograph's priority does not
/// make it use more CPU (its work is set by the sampling rate); it makes it
/// get that CPU when it needs it.
public struct OwnPriority: Sendable, Equatable {
    /// The nice value pyrograph was started with: the `--` command runs at it.
    public let original: Int32
    /// The nice value every thread of pyrograph now runs at.
    public let current: Int32

    /// Leaves the priority alone.
    public static func unchanged() -> OwnPriority {
        let nice = ownNice()
        return OwnPriority(original: nice, current: nice)
    }

    /// Sets every thread of pyrograph (and so every thread it starts later)
    /// to `nice`. Throws the kernel's refusal; the priority is then unchanged.
    public static func set(to nice: Int32) throws -> OwnPriority {
        let original = ownNice()
        let result = pyro_renice_own_threads(nice)
        guard result == 0 else {
            _ = pyro_renice_own_threads(original)
            throw RecordingError.priorityRefused(nice: nice, errno: -result)
        }
        threadNice.withLock { $0 = nice }
        return OwnPriority(original: original, current: nice)
    }

    /// Puts the calling thread at the priority `set` gave pyrograph, for
    /// threads made by a library that sets its own (libdispatch's workers).
    public static func adoptOnThisThread() {
        guard let nice = threadNice.withLock({ $0 }) else { return }
        _ = pyro_set_thread_nice(nice)
    }

    /// Puts every thread back at the priority `set` gave: libdispatch
    /// resets a worker's after each block it runs, and whichever thread
    /// leaves last unmaps the process's memory, so at a low priority on a
    /// saturated host the exit itself took seconds.
    public static func reapply() {
        guard let nice = threadNice.withLock({ $0 }) else { return }
        _ = pyro_renice_own_threads(nice)
    }

    private static let threadNice = Mutex<Int32?>(nil)

    private static func ownNice() -> Int32 {
        var nice: Int32 = 0
        return pyro_own_nice(&nice) == 0 ? nice : 0
    }
}
