import ProcessInspection

/// The names `threading` gave a process's threads, read from its memory.
public enum PythonThreadNames {
    /// `threading.get_ident()` to `Thread.name`; empty when unknown.
    public static func read(process: PythonProcess, memory: MemoryReader) -> [UInt64: String] {
        [:]
    }
}
