import Aggregation

/// The figures behind `top`, pure: samples go into the open interval;
/// closing it makes it the last interval and adds it to the totals since
/// the start; rows are ranked from those two windows. Costs grow with the
/// functions and threads seen, not with the samples.
public struct TopModel: Sendable {
    struct Counts: Sendable {
        var own: UInt64 = 0
        var total: UInt64 = 0
        var threads: [TopRow.ThreadName: UInt64] = [:]

        mutating func merge(_ other: Counts) {
            own += other.own
            total += other.total
            threads.merge(other.threads, uniquingKeysWith: +)
        }
    }

    public struct ProcessName: Hashable, Sendable {
        public var pid: Int32
        public var comm: String
    }

    /// A span of the recording: time by function and by process.
    public struct Window: Sendable {
        var counts: [TopFunction: Counts] = [:]
        var processWeight: [ProcessName: UInt64] = [:]
        /// Nanoseconds of samples (the shares' denominator) and records.
        public internal(set) var weight: UInt64 = 0
        public internal(set) var samples: UInt64 = 0
        public internal(set) var seconds: Double = 0

        public var processes: Int { processWeight.count }

        public var samplesPerSecond: Double { seconds > 0 ? Double(samples) / seconds : 0 }

        mutating func merge(_ other: Window) {
            counts.merge(other.counts) { mine, theirs in
                var merged = mine
                merged.merge(theirs)
                return merged
            }
            processWeight.merge(other.processWeight, uniquingKeysWith: +)
            weight += other.weight
            samples += other.samples
            seconds += other.seconds
        }
    }

    private var open = Window()
    public private(set) var lastInterval = Window()
    public private(set) var sinceStart = Window()

    public init() {}

    /// `samples` records of one stack, worth `weight` nanoseconds in all.
    public mutating func add(process: Frame, thread: Frame, frames: [Frame], samples: UInt64, weight: UInt64) {
        let ranked = TopFunction.ranked(frames)
        let threadName = TopRow.ThreadName(name: thread.function, tid: thread.id ?? 0)
        open.samples += samples
        open.weight += weight
        open.processWeight[ProcessName(pid: process.id ?? 0, comm: process.function), default: 0] += weight
        var seen = Set<TopFunction>()
        for frame in ranked {
            let function = TopFunction(frame, in: process)
            // A recursion counts once toward its function's total.
            guard seen.insert(function).inserted else { continue }
            open.counts[function, default: Counts()].total += weight
            open.counts[function]!.threads[threadName, default: 0] += weight
        }
        if let leaf = ranked.last {
            open.counts[TopFunction(leaf, in: process), default: Counts()].own += weight
        }
    }

    /// Ends the open interval, `seconds` long.
    public mutating func closeInterval(seconds: Double) {
        open.seconds = seconds
        lastInterval = open
        sinceStart.merge(open)
        open = Window()
    }

    /// Every function seen since the start (of one process, if `pid`),
    /// ranked.
    public func rows(order: TopOrder, pid: Int32? = nil) -> [TopRow] {
        var rows: [TopRow] = []
        for (function, total) in sinceStart.counts where pid == nil || function.pid == pid {
            let recent = lastInterval.counts[function] ?? Counts()
            let busiest = total.threads.max { ($0.value, $1.key.tid) < ($1.value, $0.key.tid) }
            rows.append(TopRow(function: function,
                               interval: Self.shares(recent, of: lastInterval.weight),
                               sinceStart: Self.shares(total, of: sinceStart.weight),
                               thread: busiest?.key ?? TopRow.ThreadName(name: "", tid: 0),
                               otherThreads: max(total.threads.count - 1, 0)))
        }
        return rows.sorted { Self.precedes($0, $1, order) }
    }

    /// The processes seen since the start, the busiest first: the order in
    /// which the process filter steps through them.
    public var processes: [ProcessName] {
        sinceStart.processWeight.sorted { ($0.value, $1.key.pid) > ($1.value, $0.key.pid) }.map(\.key)
    }

    static func shares(_ counts: Counts, of weight: UInt64) -> TopRow.Shares {
        guard weight > 0 else { return TopRow.Shares(own: 0, total: 0) }
        return TopRow.Shares(own: Double(counts.own) / Double(weight), total: Double(counts.total) / Double(weight))
    }

    /// Ties go to the other window, then the name, then the pid, so that
    /// rows keep their places from one refresh to the next.
    static func precedes(_ a: TopRow, _ b: TopRow, _ order: TopOrder) -> Bool {
        func shares(_ row: TopRow, _ window: TopOrder.Window) -> TopRow.Shares {
            window == .lastInterval ? row.interval : row.sinceStart
        }
        let byName = (a.function.name, a.function.place ?? "", a.function.pid) < (b.function.name, b.function.place ?? "", b.function.pid)
        let (first, second): (Double, Double)
        let (firstB, secondB): (Double, Double)
        switch order.key {
        case .name:
            return byName
        case .own:
            (first, second) = (shares(a, order.window).own, shares(a, order.window).total)
            (firstB, secondB) = (shares(b, order.window).own, shares(b, order.window).total)
        case .total:
            (first, second) = (shares(a, order.window).total, shares(a, order.window).own)
            (firstB, secondB) = (shares(b, order.window).total, shares(b, order.window).own)
        }
        if first != firstB { return first > firstB }
        if second != secondB { return second > secondB }
        let otherA = shares(a, order.window.other), otherB = shares(b, order.window.other)
        let keyA = order.key == .own ? otherA.own : otherA.total
        let keyB = order.key == .own ? otherB.own : otherB.total
        if keyA != keyB { return keyA > keyB }
        return byName
    }
}
