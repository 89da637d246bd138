import ProcessInspection

/// The thread states of a process's main interpreter, read from its list
/// (`interp->threads.head`, then each state's `next`), with the
/// `pthread_self()` each was created on.
public struct PythonThreadList {
    public struct Entry: Sendable, Equatable {
        /// The `PyThreadState` itself.
        public var address: UInt64
        /// Its `thread_id`: the thread's pthread_self(), which
        /// `threading.get_ident()` returns too.
        public var threadID: UInt64
    }

    /// More than this many states is taken as a broken list; the walker in
    /// the kernel searches no further either.
    static let limit = 4096

    public enum Failure: Error, Equatable {
        /// The interpreter or its list could not be read.
        case unreadable
        /// The list loops or runs past `limit`.
        case malformed
    }

    public static func read(memory: MemoryReader, layout: PythonLayout,
                            interpreterHeadAddress: UInt64) -> Result<[Entry], Failure> {
        guard let interpreter = memory.load(UInt64.self, at: interpreterHeadAddress) else { return .failure(.unreadable) }
        // An interpreter not yet initialized, or finalized: no threads.
        guard interpreter != 0 else { return .success([]) }
        guard var state = memory.load(UInt64.self, at: interpreter &+ UInt64(layout.interpreterThreadsHead)) else {
            return .failure(.unreadable)
        }
        var entries: [Entry] = []
        var seen = Set<UInt64>()
        while state != 0 {
            guard seen.insert(state).inserted, entries.count < limit else { return .failure(.malformed) }
            guard let id = memory.load(UInt64.self, at: state &+ UInt64(layout.threadID)),
                  let next = memory.load(UInt64.self, at: state &+ UInt64(layout.threadNext)) else {
                return .failure(.unreadable)
            }
            entries.append(Entry(address: state, threadID: id))
            state = next
        }
        return .success(entries)
    }
}
