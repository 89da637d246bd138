/// Large values a command about to exit would otherwise free object by
/// object: kept here, they go with the process's memory at once. Freeing
/// the flame-graph tree of a 90,000-stack recording node by node took a
/// tenth of a second of its stop.
public enum KeptUntilExit {
    nonisolated(unsafe) private static var values: [Any] = []
    /// Off unless the process is a command that exits when done: a
    /// long-lived caller (the tests) would only hold memory.
    nonisolated(unsafe) public static var isEnabled = false

    public static func keep(_ value: Any) {
        if isEnabled { values.append(value) }
    }
}
