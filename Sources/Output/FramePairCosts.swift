import Aggregation

/// Costs added up per pair of frames (a caller's frame and the frame it
/// calls), keyed by the two frame indices packed in one word: a writer
/// walking a large profile's call edges adds integers, and hashes names
/// only once per distinct pair.
struct FramePairCosts {
    /// Per pair: caller << 32 | callee.
    private var keys: [UInt64] = []
    private var counts: [UInt64] = []
    /// Per pair, `typeCount` values.
    private var inclusive: [UInt64] = []
    private var index = IDHashTable()
    private let typeCount: Int

    init(typeCount: Int) {
        self.typeCount = typeCount
    }

    var count: Int { keys.count }

    mutating func add(_ values: [UInt64], countType: Int, caller: Int32, callee: Int32) {
        let key = UInt64(UInt32(bitPattern: caller)) << 32 | UInt64(UInt32(bitPattern: callee))
        let hash = Int(truncatingIfNeeded: key)
        let pair: Int
        if let known = index.find(hash: hash, where: { keys[Int($0)] == key }) {
            pair = Int(known)
        } else {
            pair = keys.count
            keys.append(key)
            counts.append(0)
            inclusive += repeatElement(0, count: typeCount)
            index.insert(Int32(pair), hash: hash) { Int(truncatingIfNeeded: keys[Int($0)]) }
        }
        counts[pair] += values[countType]
        for type in 0..<typeCount { inclusive[pair * typeCount + type] += values[type] }
    }

    /// The pair's frames, call count and inclusive costs.
    subscript(pair: Int) -> (caller: Int32, callee: Int32, count: UInt64, inclusive: ArraySlice<UInt64>) {
        let key = keys[pair]
        return (Int32(bitPattern: UInt32(key >> 32)), Int32(bitPattern: UInt32(truncatingIfNeeded: key)), counts[pair],
                inclusive[pair * typeCount..<(pair + 1) * typeCount])
    }
}
