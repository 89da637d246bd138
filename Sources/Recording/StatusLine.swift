import BPFSampler
import Glibc

/// The one-line live status on a terminal's stderr, redrawn in place.
final class StatusLine {
    private var lastDraw = -1.0

    func update(elapsed: Double, stats: SamplerStats, processes: Int) {
        guard elapsed - lastDraw >= 0.25 else { return }
        lastDraw = elapsed
        let text = "\r\u{1b}[K[pyrograph] \(Self.format(elapsed))s  \(stats.samples) samples  "
            + "\(processes) processes  \(stats.lost) lost  (Ctrl-C to stop)"
        fputs(text, stderr)
    }

    func finish() {
        fputs("\r\u{1b}[K", stderr)
    }

    static func format(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10).rounded(.down))
        return "\(tenths / 10).\(tenths % 10)"
    }
}

struct MonotonicClock {
    private let start = MonotonicClock.now()

    var elapsed: Double { MonotonicClock.now() - start }

    /// A clock's reading in nanoseconds: CLOCK_MONOTONIC is the clock of
    /// the kernel's sample timestamps (bpf_ktime_get_ns).
    static func nanoseconds(_ clock: clockid_t) -> UInt64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
