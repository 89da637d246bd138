import ProcessInspection

/// Kernel function symbols from /proc/kallsyms (root sees real addresses).
public struct KernelSymbols: Sendable {
    public let table: SymbolTable

    public init(kallsyms path: String = "/proc/kallsyms") throws {
        self.init(parsing: try FileReader.bytes(path))
        if table.isEmpty || table.symbols.allSatisfy({ $0.address == 0 }) {
            throw SystemError("read kernel symbols (are addresses hidden by kptr_restrict?) from", path: path, errno: 13)
        }
    }

    /// Parses `ADDRESS TYPE NAME [MODULE]` lines, keeping text symbols.
    public init(parsing bytes: [UInt8]) {
        var symbols: [SymbolTable.Symbol] = []
        symbols.reserveCapacity(bytes.count / 40)
        bytes.withUnsafeBufferPointer { buffer in
            var lineStart = 0
            let count = buffer.count
            while lineStart < count {
                var lineEnd = lineStart
                while lineEnd < count && buffer[lineEnd] != 0x0a { lineEnd += 1 }
                if let symbol = KernelSymbols.parseLine(buffer, lineStart, lineEnd) { symbols.append(symbol) }
                lineStart = lineEnd + 1
            }
        }
        table = SymbolTable(symbols)
    }

    private static func parseLine(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> SymbolTable.Symbol? {
        var index = start
        var address: UInt64 = 0
        while index < end, let digit = hexValue(buffer[index]) {
            address = address << 4 | UInt64(digit)
            index += 1
        }
        guard index + 3 < end, buffer[index] == 0x20 else { return nil }
        let type = buffer[index + 1] | 0x20 // lower-case: local and global alike
        guard type == UInt8(ascii: "t") || type == UInt8(ascii: "w"), buffer[index + 2] == 0x20 else { return nil }
        let nameStart = index + 3
        var nameEnd = nameStart
        while nameEnd < end && buffer[nameEnd] != 0x20 && buffer[nameEnd] != 0x09 { nameEnd += 1 }
        let name = String(decoding: UnsafeBufferPointer(rebasing: buffer[nameStart..<nameEnd]), as: UTF8.self)
        return SymbolTable.Symbol(address: address, size: 0, name: name)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    public func name(for address: UInt64) -> String? {
        table.lookup(address)?.symbol.name
    }
}
