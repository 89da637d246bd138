/// What the user chose to see: the order, the process filter, pause.
public struct TopViewState: Equatable, Sendable {
    public var order = TopOrder()
    /// Only this process's functions; nil shows every process.
    public var process: TopModel.ProcessName?
    public var paused = false

    public init() {}

    /// Applies a key; `processes` is the filter's cycle, busiest first.
    /// Returns false for `quit`, which the caller acts on.
    public mutating func apply(_ key: TopKey, processes: [TopModel.ProcessName]) -> Bool {
        switch key {
        case .quit: return false
        case .pause: paused.toggle()
        case let .sort(sortKey): order.key = sortKey
        case .switchWindow: order.window = order.window.other
        case .allProcesses: process = nil
        case .nextProcess:
            // All, then each process in turn, then all again.
            let pids = processes.map(\.pid)
            if let current = process, let index = pids.firstIndex(of: current.pid) {
                process = index + 1 < processes.count ? processes[index + 1] : nil
            } else {
                process = processes.first
            }
        }
        return true
    }
}
