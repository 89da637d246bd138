/// An open-addressing hash set of ids, the indices of entries kept in an
/// array of their owner's: 4 bytes a slot, where a dictionary from entry to
/// id stores the entry a second time and costs 3 to 5 times as much. The
/// owner hashes and compares its entries; the table only finds their ids.
struct IDHashTable {
    private static let empty: Int32 = -1
    private var slots = [Int32](repeating: IDHashTable.empty, count: 16)
    private(set) var count = 0

    /// Slots in use at most, three quarters of them, before the table grows.
    private var limit: Int { slots.count / 4 * 3 }

    /// The id among those hashed to `hash` whose entry `matches`.
    @inline(__always)
    func find(hash: Int, where matches: (Int32) -> Bool) -> Int32? {
        let mask = slots.count - 1
        var slot = Self.start(hash, mask: mask)
        while true {
            let id = slots[slot]
            if id == Self.empty { return nil }
            if matches(id) { return id }
            slot = (slot + 1) & mask
        }
    }

    /// Adds an id not in the table. `hashOf` hashes any id already in it,
    /// for when the table grows.
    mutating func insert(_ id: Int32, hash: Int, hashOf: (Int32) -> Int) {
        if count + 1 > limit {
            let old = slots
            slots = [Int32](repeating: Self.empty, count: old.count * 2)
            for stored in old where stored != Self.empty { place(stored, hash: hashOf(stored)) }
        }
        place(id, hash: hash)
        count += 1
    }

    private mutating func place(_ id: Int32, hash: Int) {
        let mask = slots.count - 1
        var slot = Self.start(hash, mask: mask)
        while slots[slot] != Self.empty { slot = (slot + 1) & mask }
        slots[slot] = id
    }

    /// The hash's bits spread over the whole word first, so keys that
    /// differ only in their high bits (a node's parent) do not collide.
    @inline(__always)
    private static func start(_ hash: Int, mask: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: Int64(hash)) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }
}
