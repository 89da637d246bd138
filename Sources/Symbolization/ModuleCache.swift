import ProcessInspection

/// ELF files loaded once and shared by every process that maps them, keyed
/// by the file's device and inode so that the same path in two mount
/// namespaces is not confused.
public final class ModuleCache {
    private var modules: [String: ELFFile] = [:]
    private var failures: [String: String] = [:]

    public init() {}

    public var loadedCount: Int { modules.count }

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
