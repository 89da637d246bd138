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

    /// Every process that descends from one of `roots` (the roots
    /// excluded), from one read of each process's parent link.
    public static func descendants(of roots: Set<Int32>, procRoot: String = "/proc") -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for pid in (try? ProcessDirectory.allPIDs(procRoot: procRoot)) ?? [] {
            if let parent = parent(of: pid, procRoot: procRoot) { children[parent, default: []].append(pid) }
        }
        var found: [Int32] = []
        var queue = Array(roots)
        var seen = roots
        while let next = queue.popLast() {
            for child in children[next] ?? [] where seen.insert(child).inserted {
                found.append(child)
                queue.append(child)
            }
        }
        return found
    }
}
