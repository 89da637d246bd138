import Glibc

/// Read access to one process's /proc directory.
public struct ProcessDirectory: Sendable {
    public let pid: Int32
    public let procRoot: String

    public init(pid: Int32, procRoot: String = "/proc") {
        self.pid = pid
        self.procRoot = procRoot
    }

    public var path: String { "\(procRoot)/\(pid)" }

    public var exists: Bool { access(path, F_OK) == 0 }

    public func comm() throws -> String {
        try FileReader.string("\(path)/comm").trimmingTrailingNewlines()
    }

    public func threadComm(tid: Int32) throws -> String {
        try FileReader.string("\(path)/task/\(tid)/comm").trimmingTrailingNewlines()
    }

    /// The command line, arguments joined by spaces.
    public func commandLine() throws -> String {
        let raw = try FileReader.bytes("\(path)/cmdline", limit: 4096)
        return String(decoding: Array(raw.split(separator: 0).joined(separator: [0x20])), as: UTF8.self)
    }

    /// The process's pid in each pid namespace it is in, from the host's
    /// (this one's) to its own innermost (the `NSpid` line of status); one
    /// element when it shares ours.
    public func namespacePIDs() throws -> [Int32] {
        let status = try FileReader.string("\(path)/status")
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") }) else { return [pid] }
        let pids = line.dropFirst("NSpid:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int32($0) }
        return pids.isEmpty ? [pid] : pids
    }

    public func executablePath() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("\(path)/exe", &buffer, buffer.count - 1)
        guard n >= 0 else { throw SystemError("readlink", path: "\(path)/exe") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func mappings() throws -> [MemoryMapping] {
        MemoryMapping.parse(maps: try FileReader.bytes("\(path)/maps"))
    }

    public func threadIDs() throws -> [Int32] {
        try ProcessDirectory.numericEntries(of: "\(path)/task")
    }

    /// A path that opens the file behind a mapping even if it was deleted or
    /// lives in another mount namespace.
    public func mappedFilePath(_ mapping: MemoryMapping) -> String {
        "\(path)/map_files/\(String(mapping.start, radix: 16))-\(String(mapping.end, radix: 16))"
    }

    /// A path as the process sees it, reached from the host's namespace.
    public func rootedPath(_ processPath: String) -> String {
        "\(path)/root\(processPath)"
    }

    public static func allPIDs(procRoot: String = "/proc") throws -> [Int32] {
        try numericEntries(of: procRoot)
    }

    static func numericEntries(of directory: String) throws -> [Int32] {
        guard let dir = opendir(directory) else { throw SystemError("opendir", path: directory) }
        defer { closedir(dir) }
        var result: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if let value = Int32(name) { result.append(value) }
        }
        return result.sorted()
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while s.last?.isNewline == true { s.removeLast() }
        return String(s)
    }
}
