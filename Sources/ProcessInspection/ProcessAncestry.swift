/// Parent links from /proc/PID/stat.
public enum ProcessAncestry {
    public static func parent(of pid: Int32, procRoot: String = "/proc") -> Int32? {
        guard let stat = try? FileReader.string("\(procRoot)/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// Whether `pid` is one of `ancestors` or a descendant of one, looking
    /// up at most `depth` generations.
    public static func descends(_ pid: Int32, fromAnyOf ancestors: Set<Int32>, depth: Int = 16,
                                procRoot: String = "/proc") -> Bool {
        var current = pid
        for _ in 0..<depth {
            if ancestors.contains(current) { return true }
            guard let parent = parent(of: current, procRoot: procRoot), parent > 1 else { return false }
            current = parent
        }
        return false
    }
}
