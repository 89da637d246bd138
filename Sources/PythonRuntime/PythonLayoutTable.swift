/// The layouts of the families that keep a table per version (2.7, 3.6 to
/// 3.12). 3.13 and newer have none: their layout comes from the
/// interpreter's own `_Py_DebugOffsets` (`DebugOffsetsFamily`).
public enum PythonLayoutTable {
    public static func layout(for version: PythonVersion) -> PythonLayout? {
        FrameObjectFamily.layout(for: version) ?? InterpreterFrameFamily.layout(for: version)
    }
}
