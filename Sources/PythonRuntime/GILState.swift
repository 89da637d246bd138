import ProcessInspection

/// Who holds a process's GIL now, read from its memory the way the BPF side
/// reads it for `record --gil`: the GIL is held when `locked` is set, by
/// the thread state in `last_holder`. For `pyrograph dump` and tests.
public struct GILState: Equatable, Sendable {
    /// The holder's `PyThreadState *`; nil when nobody holds the GIL.
    public var holderThreadState: UInt64?
    /// The holder's `thread_id` (its `pthread_self()`), when readable.
    public var holderThreadID: UInt64?
    /// The GIL's address in the process.
    public var gilAddress: UInt64

    public var isHeld: Bool { holderThreadState != nil }

    public enum Failure: Error, Equatable, Sendable {
        /// The version keeps no GIL pyrograph can read (free-threaded builds,
        /// 2.7 and 3.6 without `_PyThreadState_Current`).
        case noGILLayout
        /// The process's memory did not hold what the layout says.
        case unreadable(address: UInt64)
    }

    /// Reads the GIL of `process` through `memory` (usually its
    /// /proc/PID/mem); the process keeps running, so the answer is a
    /// snapshot.
    public static func read(_ process: PythonProcess, memory: MemoryReader) -> Result<GILState, Failure> {
        guard let layout = process.layout, let gil = layout.gil,
              let fields = GILFields(gil, layout, interpreterHeadAddress: process.interpreterHeadAddress,
                                     currentThreadState: process.currentThreadStateAddress)
        else { return .failure(.noGILLayout) }
        var address = fields.address
        if let pointer = fields.interpreterPointer {
            guard let interpreter = memory.load(UInt64.self, at: process.interpreterHeadAddress), interpreter != 0
            else { return .failure(.unreadable(address: process.interpreterHeadAddress)) }
            guard let found = memory.load(UInt64.self, at: interpreter + UInt64(pointer)), found != 0
            else { return .failure(.unreadable(address: interpreter + UInt64(pointer))) }
            address = found
        }
        guard let holder = memory.load(UInt64.self, at: address + UInt64(gil.lastHolder)) else {
            return .failure(.unreadable(address: address + UInt64(gil.lastHolder)))
        }
        // Without a `locked` field, a holder is set only while it holds it.
        var locked: Int32 = 1
        if let offset = gil.locked {
            guard let value = memory.load(Int32.self, at: address + UInt64(offset)) else {
                return .failure(.unreadable(address: address + UInt64(offset)))
            }
            locked = value
        }
        guard locked != 0, holder != 0 else {
            return .success(GILState(holderThreadState: nil, holderThreadID: nil, gilAddress: address))
        }
        let threadID = memory.load(UInt64.self, at: holder + UInt64(layout.threadID))
        return .success(GILState(holderThreadState: holder, holderThreadID: threadID, gilAddress: address))
    }
}
