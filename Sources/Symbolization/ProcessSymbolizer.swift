import ProcessInspection

/// A user-space address of one process, resolved to a function in a file.
public struct SymbolizedAddress: Hashable, Sendable {
    /// Demangled function name, or nil when no symbol covers the address.
    public var symbol: String?
    /// The mapped file's base name, or a pseudo name like `[vdso]`.
    public var module: String
    /// The address in the file's own virtual address space (what addr2line
    /// takes), or the process address when no mapping covers it.
    public var moduleOffset: UInt64
    /// In an executable mapping of a file (or the vdso): a plausible
    /// return address.
    public var isInFile: Bool
    /// The file's GNU build ID in hex, when the file was read and has one.
    public var buildID: String? = nil
    /// In an executable mapping of the process, file-backed or not (JIT
    /// code): false for an address no code was ever mapped at.
    public var isMapped = true
}

/// Symbolizes the user addresses of one process. Its memory map is read
/// when the process is first seen, while it is alive, so samples of a
/// process that has since exited still get names.
public final class ProcessSymbolizer {
    public let process: ProcessDirectory
    private let modules: ModuleCache
    private var mappings: [MemoryMapping] = []
    private var cache: [UInt64: SymbolizedAddress] = [:]
    private var exited = false
    private var mappingsStale = false

    public init(pid: Int32, modules: ModuleCache, procRoot: String = "/proc") {
        self.process = ProcessDirectory(pid: pid, procRoot: procRoot)
        self.modules = modules
        refreshMappings()
    }

    public var mappingCount: Int { mappings.count }
    /// Times the map was read.
    public private(set) var mapReads = 0

    /// Called when the process exits: later misses must not re-read a map
    /// that may belong to a new process with the same pid (nor may a stale
    /// one be read: by its exit record the process is gone).
    public func markExited() { exited = true }

    /// The process mapped or unmapped code: the map is read again before
    /// the next address is looked up, once however many changes came
    /// first. A starting process maps its libraries one by one, each a
    /// mapping event: re-reading the map at each took a fifth of the
    /// recorder's time on a host starting 25 Pythons a second.
    public func mappingsChanged() {
        mappingsStale = true
    }

    public func refreshMappings() {
        mappingsStale = false
        guard !exited else { return }
        mapReads += 1
        guard let fresh = try? process.mappings() else { return }
        let executable = fresh.filter(\.isExecutable)
        // An exiting process's map reads empty: the one read before still
        // names its last samples.
        guard !executable.isEmpty else { return }
        mappings = executable.sorted { $0.start < $1.start }
        // A mapping may now hold another file: cached names could be stale.
        cache.removeAll(keepingCapacity: true)
    }

    /// `isReturnAddress` is true for every frame but the innermost: a return
    /// address points after the call, possibly past the caller's last byte,
    /// so the caller is looked up one byte earlier.
    public func symbolize(_ address: UInt64, isReturnAddress: Bool) -> SymbolizedAddress {
        let lookupAddress = isReturnAddress && address > 0 ? address - 1 : address
        if mappingsStale { refreshMappings() }
        if let hit = cache[lookupAddress] { return hit }
        var mapping = self.mapping(containing: lookupAddress)
        if mapping == nil && !exited {
            // A library loaded after we read the map (dlopen).
            refreshMappings()
            mapping = self.mapping(containing: lookupAddress)
        }
        let resolved = resolve(lookupAddress, in: mapping)
        cache[lookupAddress] = resolved
        return resolved
    }

    private func resolve(_ address: UInt64, in mapping: MemoryMapping?) -> SymbolizedAddress {
        guard let mapping else {
            return SymbolizedAddress(symbol: nil, module: "[unmapped]", moduleOffset: address, isInFile: false, isMapped: false)
        }
        let fileOffset = address - mapping.start + mapping.fileOffset
        if mapping.path == "[vdso]", let path = VDSOImage.path(from: process, mapping: mapping),
           let file = modules.module(atPath: path) {
            let virtualAddress = file.virtualAddress(forFileOffset: address - mapping.start)
            let symbol = file.symbols.lookup(virtualAddress).map { $0.symbol.name }
            return SymbolizedAddress(symbol: symbol, module: "[vdso]", moduleOffset: virtualAddress, isInFile: true,
                                     buildID: file.buildID)
        }
        guard mapping.isFileBacked else {
            let name = mapping.path.isEmpty ? "[anon]" : mapping.path
            return SymbolizedAddress(symbol: nil, module: name, moduleOffset: address - mapping.start,
                                     isInFile: mapping.path == "[vdso]")
        }
        let moduleName = ProcessSymbolizer.baseName(mapping.path)
        guard let file = modules.module(for: mapping, in: process) else {
            return SymbolizedAddress(symbol: nil, module: moduleName, moduleOffset: fileOffset, isInFile: true)
        }
        let virtualAddress = file.virtualAddress(forFileOffset: fileOffset)
        let symbol = file.symbols.lookup(virtualAddress).map { Demangler.demangle($0.symbol.name) }
        return SymbolizedAddress(symbol: symbol, module: moduleName, moduleOffset: virtualAddress, isInFile: true,
                                 buildID: file.buildID)
    }

    private func mapping(containing address: UInt64) -> MemoryMapping? {
        var low = 0, high = mappings.count
        while low < high {
            let mid = (low + high) / 2
            if mappings[mid].start <= address { low = mid + 1 } else { high = mid }
        }
        guard low > 0, mappings[low - 1].contains(address) else { return nil }
        return mappings[low - 1]
    }

    static func baseName(_ path: String) -> String {
        var name = path
        if name.hasSuffix(" (deleted)") { name.removeLast(" (deleted)".count) }
        if let slash = name.lastIndex(of: "/") { return String(name[name.index(after: slash)...]) }
        return name
    }
}
