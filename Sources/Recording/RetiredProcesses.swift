/// State of exited processes, kept a little while for the samples of theirs
/// still in the ring buffer, then forgotten, so a long recording with many
/// short-lived processes does not keep every one it ever saw.
struct RetiredProcesses<State> {
    /// Longer than any record waits in the ring buffer: the reader drains
    /// it every 50 ms.
    static var keepSeconds: Double { 2 }

    private var entries: [Int32: (state: State, since: Double)] = [:]

    subscript(pid: Int32) -> State? { entries[pid]?.state }

    mutating func retire(_ pid: Int32, _ state: State, now: Double) {
        entries[pid] = (state, now)
    }

    /// Removes and returns the states retired longer than `keepSeconds` ago.
    @discardableResult
    mutating func evict(now: Double) -> [State] {
        let expired = entries.filter { now - $0.value.since >= Self.keepSeconds }
        for pid in expired.keys { entries.removeValue(forKey: pid) }
        return expired.values.map(\.state)
    }

    var states: [State] { entries.values.map(\.state) }
    var count: Int { entries.count }
}
