/// A cache of at most about `2 * generationSize` entries that keeps the
/// recently used ones: lookups look in the young generation, then in the
/// old one (promoting the entry); when the young one is full it becomes the
/// old one and the previous old one is dropped. Code objects come and go
/// for as long as a process runs (templates, `exec`): their names must not
/// be kept forever.
struct GenerationalCache<Key: Hashable, Value> {
    let generationSize: Int
    private var young: [Key: Value] = [:]
    private var old: [Key: Value] = [:]

    init(generationSize: Int) {
        precondition(generationSize > 0)
        self.generationSize = generationSize
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
        if young.count >= generationSize {
            old = young
            young = [:]
        }
        young[key] = value
    }
}
