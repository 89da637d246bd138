import ProcessInspection

/// Which kernel thread runs on each pthread. A Python thread state knows
/// its thread by pthread_self() (the address of glibc's `struct pthread`),
/// and 3.8+'s `native_thread_id` is not in every layout; glibc keeps the
/// kernel tid in that struct, at an offset fixed per glibc build (0x2d0 on
/// x86_64 for years). The offset is found, not assumed: the one where
/// every pthread holds a distinct tid of the process.
public enum PthreadTIDs {
    /// Bytes of `struct pthread` searched for the tid.
    static let searchedBytes = 0x1000
    /// glibc's `offsetof(struct pthread, tid)` on x86_64, tried first.
    static let usualOffset = 0x2d0

    /// pthread address to tid; pthreads whose tid was not found are absent.
    public static func map(pthreads: [UInt64], tids processTIDs: Set<Int32>, memory: MemoryReader) -> [UInt64: Int32] {
        let pthreads = Array(Set(pthreads.filter { $0 != 0 }))
        guard !pthreads.isEmpty, !processTIDs.isEmpty else { return [:] }
        // struct pthread may end close to the end of its mapping (the top
        // of the thread's stack): the longest readable prefix is searched.
        let images = pthreads.map { pthread in
            [searchedBytes, searchedBytes / 2, searchedBytes / 4].lazy.compactMap { memory.bytes(pthread, count: $0) }.first
        }
        func tidsAt(_ offset: Int) -> [UInt64: Int32]? {
            var found: [UInt64: Int32] = [:]
            var used = Set<Int32>()
            for (pthread, image) in zip(pthreads, images) {
                guard let image else { continue }
                guard offset + 4 <= image.count else { return nil }
                let value = image[offset..<offset + 4].enumerated()
                    .reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
                let tid = Int32(bitPattern: value)
                guard processTIDs.contains(tid), used.insert(tid).inserted else { return nil }
                found[pthread] = tid
            }
            return found.isEmpty ? nil : found
        }
        if let found = tidsAt(usualOffset) { return found }
        for offset in stride(from: 0, to: searchedBytes - 4, by: 4) where offset != usualOffset {
            if let found = tidsAt(offset) { return found }
        }
        return [:]
    }
}
