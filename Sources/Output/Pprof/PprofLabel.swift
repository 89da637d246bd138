/// The sample labels pyrograph writes: who ran the stack. A stack's
/// process and thread frames become these labels rather than frames, as
/// pprof viewers filter and group by labels (`go tool pprof -tagfocus`,
/// Pyroscope's label selectors).
enum PprofLabel {
    /// Numeric; the process's command is `process`.
    static let pid = "pid"
    static let processName = "process"
    /// Numeric; the thread's name is `thread`.
    static let tid = "tid"
    static let threadName = "thread"
}
