import Glibc

/// A cache of at most about `2 * generationSize` entries that keeps the
/// recently used ones: lookups look in the young generation, then in the
/// old one (promoting the entry); when the young one is full, or older than
/// `maximumAgeSeconds`, it becomes the old one and the previous old one is
/// dropped. Code objects come and go for as long as a process runs
/// (templates, `exec`): their names must not be kept forever, and a process
/// that makes a few new ones a second must not take many minutes to reach
/// its ceiling, or a recording of days climbs for that long.
struct GenerationalCache<Key: Hashable, Value> {
    let generationSize: Int
    let maximumAgeSeconds: Double
    private let now: () -> Double
    private var young: [Key: Value] = [:]
    private var old: [Key: Value] = [:]
    private var youngSince: Double

    /// `now` is a monotonic clock in seconds (the tests give their own).
    init(generationSize: Int, maximumAgeSeconds: Double = .infinity,
         now: @escaping () -> Double = GenerationalCache.monotonicSeconds) {
        precondition(generationSize > 0 && maximumAgeSeconds > 0)
        self.generationSize = generationSize
        self.maximumAgeSeconds = maximumAgeSeconds
        self.now = now
        youngSince = now()
    }

    var count: Int { young.count + old.count }

    subscript(key: Key) -> Value? {
        mutating get {
            if let value = young[key] { return value }
            guard let value = old.removeValue(forKey: key) else { return nil }
            insert(value, for: key)
            return value
        }
    }

    mutating func insert(_ value: Value, for key: Key) {
        if young.count >= generationSize || (maximumAgeSeconds.isFinite && now() - youngSince >= maximumAgeSeconds) {
            old = young
            young = [:]
            youngSince = now()
        }
        young[key] = value
    }

    static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
