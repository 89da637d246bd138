/// Hands out ranges of a fixed-size array (the kernel's unwind rows or
/// pages) and takes them back, so a long recording reuses the room of files
/// no process maps any more. First fit over the freed ranges, which are
/// kept sorted and merged with their neighbours, else the untouched end.
public struct RangeAllocator: Sendable, Equatable {
    public let capacity: Int
    /// Freed ranges, sorted by start, never adjacent to each other.
    public private(set) var free: [Range<Int>] = []
    /// Everything from here to `capacity` has never been handed out.
    public private(set) var end = 0
    public private(set) var inUse = 0
    public private(set) var peakInUse = 0

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// Whether `allocate(count)` would succeed.
    public func fits(_ count: Int) -> Bool {
        end + count <= capacity || free.contains { $0.count >= count }
    }

    /// The start of `count` free elements, or nil if no range is that long.
    public mutating func allocate(_ count: Int) -> Int? {
        guard count > 0 else { return nil }
        let start: Int
        if let index = free.firstIndex(where: { $0.count >= count }) {
            start = free[index].lowerBound
            let rest = (start + count)..<free[index].upperBound
            if rest.isEmpty { free.remove(at: index) } else { free[index] = rest }
        } else if end + count <= capacity {
            start = end
            end += count
        } else {
            return nil
        }
        inUse += count
        peakInUse = max(peakInUse, inUse)
        return start
    }

    /// Returns a range `allocate` handed out.
    public mutating func release(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        precondition(range.upperBound <= end, "a range that was never handed out")
        inUse -= range.count
        let index = free.firstIndex { $0.lowerBound > range.lowerBound } ?? free.count
        var merged = range
        if index < free.count, free[index].lowerBound == merged.upperBound {
            merged = merged.lowerBound..<free[index].upperBound
            free.remove(at: index)
        }
        if index > 0, free[index - 1].upperBound == merged.lowerBound {
            merged = free[index - 1].lowerBound..<merged.upperBound
            free.remove(at: index - 1)
            free.insert(merged, at: index - 1)
        } else {
            free.insert(merged, at: index)
        }
        // A free range that reaches the untouched end joins it.
        if let last = free.last, last.upperBound == end {
            end = last.lowerBound
            free.removeLast()
        }
    }
}
