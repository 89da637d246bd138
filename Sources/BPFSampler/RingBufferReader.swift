import CPyrograph
import Glibc

/// Delivers each record of the BPF ring buffer to a Swift closure. The
/// bytes are only valid during the call.
///
/// Every call does bounded work. libbpf's consume loops for as long as
/// records keep arriving, so a reader slower than the producers would never
/// return to the control loop, which then could not see a stop request or
/// the deadline. This libbpf (1.1) has no ring_buffer__consume_n, so the
/// callback ends a batch itself: a negative return makes libbpf store the
/// consumer position (the record just handled included) and return.
public final class RingBufferReader {
    public typealias Handler = (UnsafeRawBufferPointer) -> Void

    /// How much one call may do: whichever limit comes first.
    public struct Budget: Sendable {
        public var records: Int
        public var seconds: Double

        public init(records: Int, seconds: Double) {
            self.records = records
            self.seconds = seconds
        }

        /// A 50 ms tick of the control loop: at 2048 records or 25 ms
        /// (about 80,000 records a second when every tick is full) the
        /// loop still checks the stop flag twenty times a second.
        public static let batch = Budget(records: 2048, seconds: 0.025)
    }

    /// What the records left in the buffer at stop became.
    public struct Shutdown: Sendable {
        public var handled = 0
        /// Consumed unread: the time for draining ran out, or the user
        /// insisted on stopping.
        public var dropped = 0
    }

    private final class Box {
        let handler: Handler
        var remaining = 0
        var deadline = 0.0
        var handled = 0
        var discarding = false
        var discarded = 0
        var abandon: () -> Bool = { false }
        init(_ handler: @escaping Handler) { self.handler = handler }
    }

    /// Returned by the callback to end a batch; any negative value works.
    private static let budgetSpent: Int32 = -EAGAIN

    private let ringBuffer: OpaquePointer
    private let box: Box
    /// The last batch ended on its budget: records are waiting, so the
    /// next poll should not sleep.
    private var backlog = false

    public init(mapFD: Int32, handler: @escaping Handler) throws {
        box = Box(handler)
        let context = Unmanaged.passUnretained(box).toOpaque()
        let callback: ring_buffer_sample_fn = { context, data, size in
            let box = Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue()
            if box.discarding {
                box.discarded += 1
                return 0
            }
            box.handler(UnsafeRawBufferPointer(start: data, count: size))
            box.handled += 1
            box.remaining -= 1
            if box.remaining <= 0 { return RingBufferReader.budgetSpent }
            // The clock costs tens of nanoseconds; a record can cost
            // milliseconds (a new process's symbols), so check often.
            if box.handled % 16 == 0, box.abandon() || RingBufferReader.now() >= box.deadline {
                return RingBufferReader.budgetSpent
            }
            return 0
        }
        guard let ringBuffer = ring_buffer__new(mapFD, callback, context, nil) else {
            throw SamplerError.attachFailed(what: "the ring buffer", errno: errno, log: Sampler.libbpfLog())
        }
        self.ringBuffer = ringBuffer
    }

    deinit { ring_buffer__free(ringBuffer) }

    /// Waits up to `timeoutMilliseconds` for records (not at all when the
    /// last batch left a backlog) and handles at most `budget` of them.
    /// Returns the number handled; an interrupted wait is not an error.
    /// Samples do not wake the reader (see PYRO_RING_WAKEUP_BYTES), so the
    /// buffer is read after the wait whether or not it was woken.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32, budget: Budget = .batch) -> Int {
        if !backlog {
            // Only to sleep: records are read below, within the budget.
            start(budget: Budget(records: 1, seconds: budget.seconds))
            _ = ring_buffer__poll(ringBuffer, timeoutMilliseconds)
            let woken = box.handled
            return woken + drain(budget: Budget(records: budget.records - woken, seconds: budget.seconds))
        }
        return drain(budget: budget)
    }

    /// Handles what is already in the buffer, at most `budget` of it,
    /// without waiting.
    @discardableResult
    public func drain(budget: Budget = .batch) -> Int {
        guard budget.records > 0 else { return 0 }
        start(budget: budget)
        let result = ring_buffer__consume(ringBuffer)
        backlog = result == RingBufferReader.budgetSpent && !box.abandon()
        return box.handled
    }

    /// After the producers have stopped: handles what is left for at most
    /// `seconds`, or until `abandon` says the user will not wait, then
    /// consumes the rest unread, counting it.
    public func drainAtStop(within seconds: Double, abandonIf abandon: @escaping () -> Bool) -> Shutdown {
        var shutdown = Shutdown()
        let deadline = RingBufferReader.now() + seconds
        box.abandon = abandon
        defer { box.abandon = { false } }
        repeat {
            let now = RingBufferReader.now()
            guard now < deadline, !abandon() else { break }
            shutdown.handled += drain(budget: Budget(records: Budget.batch.records, seconds: deadline - now))
        } while backlog
        box.discarding = true
        box.discarded = 0
        _ = ring_buffer__consume(ringBuffer)
        box.discarding = false
        shutdown.dropped = box.discarded
        backlog = false
        return shutdown
    }

    private func start(budget: Budget) {
        box.remaining = budget.records
        box.deadline = RingBufferReader.now() + budget.seconds
        box.handled = 0
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
