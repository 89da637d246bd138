import ProcessInspection

/// ELF files loaded once and shared by every process that maps them, keyed
/// by the file's device and inode so that the same path in two mount
/// namespaces is not confused.
public final class ModuleCache {
    private var modules: [String: ELFFile] = [:]
    private var failures: [String: String] = [:]

    public init() {}

    public var loadedCount: Int { modules.count }

    /// A file pyrograph made itself (the vDSO copy), by path.
    public func module(atPath path: String) -> ELFFile? {
        if let module = modules[path] { return module }
        guard failures[path] == nil else { return nil }
        guard let module = try? ELFFile(path: path) else {
            failures[path] = path
            return nil
        }
        modules[path] = module
        return module
    }

    /// Loads the file behind `mapping` of `process`, through map_files while
    /// the process is alive so deleted and namespaced files work too.
    public func module(for mapping: MemoryMapping, in process: ProcessDirectory) -> ELFFile? {
        let key = mapping.fileKey
        if let module = modules[key] { return module }
        if failures[key] != nil { return nil }
        for candidate in [process.mappedFilePath(mapping), process.rootedPath(mapping.path), mapping.path] {
            if let module = try? ELFFile(path: candidate) {
                modules[key] = module
                return module
            }
        }
        failures[key] = mapping.path
        return nil
    }
}
