import ProcessInspection

/// Every CPython process on the host, found by scanning /proc.
public enum PythonProcessScanner {
    public static func scan(detector: PythonProcessDetector, procRoot: String = "/proc",
                            excluding excluded: Set<Int32> = []) -> [PythonProcess] {
        let pids = (try? ProcessDirectory.allPIDs(procRoot: procRoot)) ?? []
        return pids.filter { !excluded.contains($0) }.compactMap { detector.detect(pid: $0) }
    }
}
