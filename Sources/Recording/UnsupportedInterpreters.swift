import PythonRuntime

/// Processes whose Python stacks could not be read, for the summary: each
/// one by pid while they are few, and a count per interpreter and reason
/// however many there are, so a host starting thousands of them costs a
/// few entries, not one per process.
public struct UnsupportedInterpreters {
    public struct Kind: Hashable {
        public var interpreterPath: String
        public var reason: String
    }

    /// Processes named one by one; the rest are only counted.
    public static let listedLimit = 20

    public private(set) var listed: [(pid: Int32, kind: Kind)] = []
    public private(set) var processes: [Kind: Int] = [:]

    public var isEmpty: Bool { processes.isEmpty }

    mutating func note(pid: Int32, _ process: PythonProcess) {
        note(pid: pid, Kind(interpreterPath: process.interpreterPath, reason: process.unsupportedReason ?? "unsupported"))
    }

    mutating func note(pid: Int32, _ kind: Kind) {
        processes[kind, default: 0] += 1
        if listed.count < Self.listedLimit { listed.append((pid, kind)) }
    }

    /// Per interpreter and reason, the processes not listed by pid.
    public var unlisted: [(kind: Kind, processes: Int)] {
        var remaining = processes
        for entry in listed { remaining[entry.kind]! -= 1 }
        return remaining.filter { $0.value > 0 }.map { ($0.key, $0.value) }
            .sorted { ($0.kind.interpreterPath, $0.kind.reason) < ($1.kind.interpreterPath, $1.kind.reason) }
    }
}
