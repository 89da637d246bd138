import ArgumentParser
import Aggregation

/// How frames are named and which are shown, for every command that writes
/// or reads a profile: `@OptionGroup var naming: NamingOptions`, then
/// `naming.view.apply(to: profile)` before writing.
struct NamingOptions: ParsableArguments {
    @Flag(name: .customLong("full-filenames"),
          help: ArgumentHelp("Python file names whole (/usr/lib/python3.11/json/decoder.py) instead of relative to their "
              + "sys.path root (json/decoder.py): site-packages, dist-packages, the standard library, the script's directory."))
    var fullFileNames = false

    @Flag(name: .customLong("no-lines"),
          help: "One frame per Python function instead of one per line: `qualname (file)`.")
    var noLines = false

    @Flag(name: .customLong("interpreter-frames"),
          help: ArgumentHelp("Show CPython's own native frames between Python frames (_PyEval_EvalFrameDefault, "
              + "_PyFunction_Vectorcall, ...), hidden by default. Native code Python calls into (a builtin, "
              + "a C extension, libc) is always shown."))
    var interpreterFrames = false

    var view: ProfileView {
        ProfileView(fullFileNames: fullFileNames, lines: !noLines, interpreterFrames: interpreterFrames)
    }
}
