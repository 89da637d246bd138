/// Shortens Python file names the way `import` sees them: relative to the
/// `sys.path` root a module was found under (`json/decoder.py`,
/// `requests/sessions.py`), as tracebacks' readers expect.
///
/// The roots are recognized from the names alone, so the rule works the
/// same at record time and on a profile read back from a file:
/// - `site-packages/` and `dist-packages/` (virtualenvs, pyenv, Debian);
/// - the standard library, `lib/pythonX.Y/` (any prefix: /usr, pyenv,
///   a virtualenv's base), and Debian's `lib/python3/`;
/// - the script's directory (`sys.path[0]`): the directory of the
///   outermost `<module>` frame that lies under no other root, which is
///   the `__main__` script a process was started with.
/// Names under no root (`<frozen ...>`, `<string>`, a module loaded from
/// an unrelated directory) are kept whole.
public struct PythonFileNames: Sendable {
    /// Script directories, each ending in "/", longest first.
    public private(set) var scriptDirectories: [String] = []

    public init() {}

    /// Learns the script directories from the profile's stacks.
    public init(learningFrom profile: Profile) {
        self.init(outermostPythonFrames: profile.stacks.lazy.compactMap { stack in
            stack.frames.lazy.map { profile.frames[Int($0)] }.first { $0.kind == .python }
        })
    }

    /// Learns the script directories from each stack's outermost Python
    /// frame (a builder that keeps its own frames finds those itself).
    public init(outermostPythonFrames: some Sequence<Frame>) {
        var directories = Set<String>()
        for first in outermostPythonFrames {
            guard first.function == "<module>", let file = first.file,
                  Self.libraryRelative(file) == nil, file.hasPrefix("/"),
                  let slash = file.lastIndex(of: "/") else { continue }
            directories.insert(String(file[...slash]))
        }
        scriptDirectories = directories.sorted { ($0.utf8.count, $0) > ($1.utf8.count, $1) }
    }

    /// Script directories already learned (from several parts of one profile).
    public init(scriptDirectories: some Sequence<String>) {
        self.scriptDirectories = Set(scriptDirectories).sorted { ($0.utf8.count, $0) > ($1.utf8.count, $1) }
    }

    /// The name relative to its root, or the name as it is.
    public func shortened(_ file: String) -> String {
        if let relative = Self.libraryRelative(file) { return relative }
        for directory in scriptDirectories where file.hasPrefix(directory) && file.utf8.count > directory.utf8.count {
            return String(file.dropFirst(directory.count))
        }
        return file
    }

    /// The part after the last library root in `file`, if any.
    static func libraryRelative(_ file: String) -> String? {
        let components = file.split(separator: "/", omittingEmptySubsequences: false)
        // The last root wins: a virtualenv inside a checkout inside site-packages.
        var index = components.count - 2
        while index >= 0 {
            let component = components[index]
            if component == "site-packages" || component == "dist-packages" {
                return joined(components[(index + 1)...])
            }
            if index >= 1, components[index - 1] == "lib" || components[index - 1] == "lib64",
               isStandardLibraryDirectory(component) {
                return joined(components[(index + 1)...])
            }
            index -= 1
        }
        return nil
    }

    /// `python3.12`, `python3.13t`, `python2.7`, Debian's `python3`.
    static func isStandardLibraryDirectory(_ name: Substring) -> Bool {
        guard name.hasPrefix("python") else { return false }
        let version = name.dropFirst("python".count)
        guard let first = version.first, first.isASCII, first.isNumber else { return false }
        return version.allSatisfy { ($0.isASCII && $0.isNumber) || $0 == "." || $0 == "t" || $0 == "d" || $0 == "m" }
    }

    private static func joined(_ components: ArraySlice<Substring>) -> String? {
        guard let last = components.last, !last.isEmpty else { return nil }
        return components.joined(separator: "/")
    }
}
