/// Sorted function symbols with a binary search: the structure every
/// symbol source (ELF files, kallsyms) produces.
public struct SymbolTable: Sendable {
    public struct Symbol: Sendable, Equatable {
        public var address: UInt64
        /// Zero when the source does not say; the symbol then extends to
        /// the next one.
        public var size: UInt64
        public var name: String

        public init(address: UInt64, size: UInt64, name: String) {
            self.address = address
            self.size = size
            self.name = name
        }
    }

    public private(set) var symbols: [Symbol]

    /// Sorts by address and drops exact duplicates (the same function is
    /// often in both .symtab and .dynsym). Among aliases at one address the
    /// first name given wins.
    public init(_ unsorted: [Symbol]) {
        var sorted = unsorted.enumerated().sorted {
            $0.element.address != $1.element.address ? $0.element.address < $1.element.address : $0.offset < $1.offset
        }.map(\.element)
        var deduplicated: [Symbol] = []
        deduplicated.reserveCapacity(sorted.count)
        for symbol in sorted {
            if let last = deduplicated.last, last.address == symbol.address {
                if last.size == 0 && symbol.size != 0 { deduplicated[deduplicated.count - 1].size = symbol.size }
                continue
            }
            deduplicated.append(symbol)
        }
        sorted = []
        symbols = deduplicated
    }

    public var isEmpty: Bool { symbols.isEmpty }

    /// The symbol covering `address`, and the offset into it.
    public func lookup(_ address: UInt64) -> (symbol: Symbol, offset: UInt64)? {
        var low = 0, high = symbols.count
        while low < high {
            let mid = (low + high) / 2
            if symbols[mid].address <= address { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return nil }
        let symbol = symbols[low - 1]
        let offset = address - symbol.address
        if symbol.size > 0 && offset >= symbol.size { return nil }
        return (symbol, offset)
    }
}
