/// Where to catch the processes that start one interpreter file: a
/// function its initialization runs once per process, before any Python
/// code runs (the importlib bootstrap runs Python code during
/// initialization, so the start, not the end, is the moment to catch).
/// The layout holds only static addresses, and the walker copes with a
/// runtime that has no thread yet, so the layout is right from there on.
public struct PythonStartProbe: Sendable, Equatable {
    /// The file's identity (device:inode), shared by every process running it.
    public var fileKey: String
    /// A path to the file that pyrograph can open (through /proc, for a
    /// process in another root).
    public var path: String
    public var function: String
    /// The function's address in the file's own address space.
    public var address: UInt64
    /// This process's load bias for the file: its addresses minus the file's.
    public var bias: UInt64

    /// The initialization entry points python's own main calls, newest
    /// first; the first one a file defines is probed: 3.8+, 3.7, then
    /// 2.7 and 3.6 (whose Py_Initialize calls Py_InitializeEx).
    public static let functions = ["Py_InitializeFromConfig", "_Py_InitializeCore", "Py_InitializeEx"]

    /// The probe for a file whose symbols are `symbols`, or nil if it
    /// defines none of the functions.
    static func choose(fileKey: String, path: String, symbols: [String: UInt64], bias: UInt64) -> PythonStartProbe? {
        for function in functions {
            if let address = symbols[function], address != 0 {
                return PythonStartProbe(fileKey: fileKey, path: path, function: function, address: address, bias: bias)
            }
        }
        return nil
    }
}
