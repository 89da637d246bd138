import CPyrograph

/// A table's rows indexed by page of code (PYRO_UNWIND_PAGE_SHIFT): for
/// each page, how many rows start before it and before the next one. The
/// BPF unwinder then searches only the rows of one page, a handful instead
/// of the file's tens of thousands.
public struct UnwindPageIndex: Sendable {
    /// The file address where page 0 begins.
    public let firstPagePC: UInt32
    /// One entry per page from the first row's page to the last row's.
    public let pages: [pyro_unwind_page]

    public init(rows: [pyro_unwind_row]) {
        guard let first = rows.first, let last = rows.last else {
            firstPagePC = 0
            pages = []
            return
        }
        let shift = UInt64(PYRO_UNWIND_PAGE_SHIFT)
        let base = (UInt64(first.pc) >> shift) << shift
        let count = Int((UInt64(last.pc) - base) >> shift) + 1
        var pages: [pyro_unwind_page] = []
        pages.reserveCapacity(count)
        var before = 0
        for page in 0..<count {
            let end = base + (UInt64(page + 1) << shift)
            var beforeNext = before
            while beforeNext < rows.count && UInt64(rows[beforeNext].pc) < end { beforeNext += 1 }
            pages.append(pyro_unwind_page(first_row: UInt32(before), end_row: UInt32(beforeNext)))
            before = beforeNext
        }
        firstPagePC = UInt32(base)
        self.pages = pages
    }
}
