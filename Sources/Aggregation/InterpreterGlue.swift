/// CPython's own native frames between two Python frames: the eval loop's
/// call machinery (`_PyEval_EvalFrameDefault`, `_PyFunction_Vectorcall`,
/// `PyObject_Call`, `method_vectorcall`, ...) that every Python call goes
/// through and that says nothing about the program. They took a third of
/// every mixed stack.
///
/// A frame is glue when it is native code of the interpreter itself (the
/// `python3.X` binary or `libpython`), with a Python frame somewhere
/// above it and one somewhere below it in the same stack. Kept:
/// - native code of any other file, wherever it is: a C extension, zlib,
///   libffi, libc; and kernel frames;
/// - the interpreter's frames past the innermost Python frame: the builtin
///   or C function that Python called into (`builtin_sum`, `list_sort`),
///   and what it calls;
/// - the interpreter's frames before the outermost Python frame (`main`,
///   `Py_RunMain`, a thread's bootstrap), which say how the code started.
public enum InterpreterGlue {
    /// The stack (root first) without its glue frames.
    public static func removed(from stack: [Frame]) -> [Frame] {
        guard let outer = stack.firstIndex(where: { $0.kind == .python }),
              let inner = stack.lastIndex(where: { $0.kind == .python }), outer < inner else { return stack }
        var kept = Array(stack[...outer])
        kept.reserveCapacity(stack.count)
        for frame in stack[(outer + 1)..<inner] where !isInterpreterCode(frame) {
            kept.append(frame)
        }
        kept.append(contentsOf: stack[inner...])
        return kept
    }

    /// Native code of the interpreter's binary or shared library.
    public static func isInterpreterCode(_ frame: Frame) -> Bool {
        guard frame.kind == .native, let module = frame.module else { return false }
        return isInterpreterModule(module)
    }

    /// `python3.11`, `python3.13d`, `python2.7`, `libpython3.12.so.1.0`,
    /// `libpython3.13t.so`: the names CPython installs its code under.
    /// Byte by byte: the stop judges every frame of every part it reads
    /// back, and a search by `Character` took a quarter of that.
    static func isInterpreterModule(_ module: String) -> Bool {
        let bytes = module.utf8
        var name = bytes[...]
        if name.starts(with: "lib".utf8) {
            name = name.dropFirst(3)
            guard let so = name.indices.first(where: { name[$0...].starts(with: ".so".utf8) }) else { return false }
            name = name[..<so]
        }
        guard name.starts(with: "python".utf8) else { return false }
        let version = name.dropFirst(6)
        guard let first = version.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return version.allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "._dmtu".utf8.contains(byte)
        }
    }
}
