/// An open-addressing hash set of ids, the indices of entries kept in an
/// array of their owner's: 5 bytes a slot, where a dictionary from entry to
/// id stores the entry a second time and costs 3 to 5 times as much. The
/// owner hashes and compares its entries; the table only finds their ids.
///
/// Each slot keeps 8 more bits of its id's hash (its tag) beside it, and a
/// lookup asks the owner to compare only entries whose tag matches: a probe
/// past other entries then seldom visits them in the owner's array, a
/// cache miss each (at 100,000 stacks those visits were most of a
/// profile's `add`).
///
/// Inlinable: its callers (the recording's frame table, the profile's
/// stacks, the writers' tables of pairs) look up millions of entries, and
/// each lookup's comparison is a closure that must inline to be cheap.
public struct IDHashTable: Sendable {
    @usableFromInline static let empty: Int32 = -1
    @usableFromInline var slots = [Int32](repeating: IDHashTable.empty, count: 16)
    @usableFromInline var tags = [UInt8](repeating: 0, count: 16)
    @usableFromInline var used = 0

    /// Ids in the table.
    public var count: Int { used }

    public init() {}

    /// Slots in use at most, three quarters of them, before the table grows.
    @usableFromInline var limit: Int { slots.count / 4 * 3 }

    /// Room for `count` ids before the table grows, so one that will hold
    /// many is not rehashed on the way. A hint, taken only by an empty table.
    public mutating func reserveCapacity(_ count: Int) {
        guard used == 0 else { return }
        var size = slots.count
        while size / 4 * 3 < count { size *= 2 }
        if size > slots.count {
            slots = [Int32](repeating: Self.empty, count: size)
            tags = [UInt8](repeating: 0, count: size)
        }
    }

    /// The id among those hashed to `hash` whose entry `matches`.
    @inlinable @inline(__always)
    public func find(hash: Int, where matches: (Int32) -> Bool) -> Int32? {
        let spread = Self.spread(hash)
        let tag = Self.tag(spread)
        let mask = slots.count - 1
        var slot = Self.start(spread, mask: mask)
        while true {
            let id = slots[slot]
            if id == Self.empty { return nil }
            if tags[slot] == tag && matches(id) { return id }
            slot = (slot + 1) & mask
        }
    }

    /// Adds an id not in the table. `hashOf` hashes any id already in it,
    /// for when the table grows.
    @inlinable
    public mutating func insert(_ id: Int32, hash: Int, hashOf: (Int32) -> Int) {
        if used + 1 > limit {
            let old = slots
            slots = [Int32](repeating: Self.empty, count: old.count * 2)
            tags = [UInt8](repeating: 0, count: old.count * 2)
            for stored in old where stored != Self.empty { place(stored, hash: hashOf(stored)) }
        }
        place(id, hash: hash)
        used += 1
    }

    @inlinable
    mutating func place(_ id: Int32, hash: Int) {
        let spread = Self.spread(hash)
        let mask = slots.count - 1
        var slot = Self.start(spread, mask: mask)
        while slots[slot] != Self.empty { slot = (slot + 1) & mask }
        slots[slot] = id
        tags[slot] = Self.tag(spread)
    }

    /// The hash's bits spread over the whole word, so keys that differ
    /// only in their high bits (a node's parent) do not collide.
    @inlinable @inline(__always)
    static func spread(_ hash: Int) -> UInt64 {
        UInt64(bitPattern: Int64(hash)) &* 0x9E37_79B9_7F4A_7C15
    }

    /// The slot to look from: the spread hash's bits from 32 up.
    @inlinable @inline(__always)
    static func start(_ spread: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: spread >> 32) & mask
    }

    /// The top 8 bits, apart from those that place the id in any table
    /// under 2^24 slots.
    @inlinable @inline(__always)
    static func tag(_ spread: UInt64) -> UInt8 {
        UInt8(truncatingIfNeeded: spread >> 56)
    }
}
