import Aggregation

/// The frame names a folded file has already typed, found by their bytes:
/// a large file names the same frames on hundreds of thousands of lines,
/// and hashing each as a `Substring` (Unicode-normalized, grapheme by
/// grapheme) was most of the time it took to read. Names are kept per
/// depth class (the process, the thread, the rest), which type alike.
struct FoldedNameIndex {
    private var bytes: [UInt8] = []
    /// Per name: its class, its end in `bytes` (it starts where the
    /// previous one ends) and its frame's index in the profile.
    private var classes: [UInt8] = []
    private var ends: [Int] = []
    private var frames: [Int32] = []
    private var index = IDHashTable()

    /// The frame of `name` at depth class `depthClass` (0, 1 or 2), if typed before.
    func frame(named name: UnsafeRawBufferPointer, depthClass: UInt8) -> Int32? {
        index.find(hash: Self.hash(name, depthClass)) { matches(Int($0), name, depthClass) }.map { frames[Int($0)] }
    }

    mutating func insert(_ frame: Int32, named name: UnsafeRawBufferPointer, depthClass: UInt8) {
        bytes.append(contentsOf: name)
        classes.append(depthClass)
        ends.append(bytes.count)
        frames.append(frame)
        // The names are read through copies (of references, not of bytes)
        // while the index changes.
        let bytes = self.bytes, classes = self.classes, ends = self.ends
        index.insert(Int32(frames.count - 1), hash: Self.hash(name, depthClass)) { entry in
            bytes.withUnsafeBytes {
                Self.hash(UnsafeRawBufferPointer(rebasing: $0[Self.range(of: Int(entry), ends: ends)]), classes[Int(entry)])
            }
        }
    }

    private static func range(of entry: Int, ends: [Int]) -> Range<Int> {
        (entry == 0 ? 0 : ends[entry - 1])..<ends[entry]
    }

    private func matches(_ entry: Int, _ name: UnsafeRawBufferPointer, _ depthClass: UInt8) -> Bool {
        guard classes[entry] == depthClass else { return false }
        let stored = Self.range(of: entry, ends: ends)
        guard stored.count == name.count else { return false }
        return bytes.withUnsafeBytes { $0[stored].elementsEqual(name) }
    }

    /// FNV-1a over the bytes, then the class.
    private static func hash(_ name: UnsafeRawBufferPointer, _ depthClass: UInt8) -> Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        hash = (hash ^ UInt64(depthClass)) &* 0x0000_0100_0000_01B3
        return Int(truncatingIfNeeded: hash)
    }
}
