/// One line of /proc/PID/maps.
public struct MemoryMapping: Equatable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var permissions: String
    public var fileOffset: UInt64
    public var device: String
    public var inode: UInt64
    /// The path as the process sees it, `[vdso]`-style pseudo names, or "".
    public var path: String

    public var isExecutable: Bool { permissions.contains("x") }
    public var isFileBacked: Bool { inode != 0 && path.hasPrefix("/") }

    /// Identity of the mapped file across processes and mount namespaces.
    public var fileKey: String { "\(device):\(inode)" }

    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }

    /// Parses one maps line: `start-end perms offset dev inode   path`.
    public init?(line: Substring) {
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count >= 5 else { return nil }
        let range = fields[0].split(separator: "-")
        guard range.count == 2,
              let start = UInt64(range[0], radix: 16),
              let end = UInt64(range[1], radix: 16),
              let offset = UInt64(fields[2], radix: 16),
              let inode = UInt64(fields[4])
        else { return nil }
        self.start = start
        self.end = end
        self.permissions = String(fields[1])
        self.fileOffset = offset
        self.device = String(fields[3])
        self.inode = inode
        self.path = fields.count > 5 ? String(fields[5].drop(while: { $0 == " " })) : ""
    }

    public init(start: UInt64, end: UInt64, permissions: String, fileOffset: UInt64,
                device: String, inode: UInt64, path: String) {
        self.start = start
        self.end = end
        self.permissions = permissions
        self.fileOffset = fileOffset
        self.device = device
        self.inode = inode
        self.path = path
    }
}
