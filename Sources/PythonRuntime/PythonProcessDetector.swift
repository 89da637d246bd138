import CPyrograph
import Glibc
import NativeUnwinding
import ProcessInspection
import Symbolization

/// Finds the CPython interpreter in a process: the executable or a mapped
/// libpython, its exact version (read from memory or the binary, never from
/// a file name alone), its build kind, and the layout to walk it with.
public final class PythonProcessDetector {
    static let interestingSymbols = Set<String>([
        "_PyRuntime", "interp_head", "_PyThreadState_Current", "Py_Version", "Py_Initialize", "PyCode_Type",
        "_Py_RefTotal", "_Py_NegativeRefcount", "_PyEval_EvalFrameDefault", "PyEval_EvalFrameEx",
        // Py_GetVersion()'s static buffer, filled at start-up with sys.version.
        "version.0", "version.1", "version",
    ]).union(PythonStartProbe.functions)

    private struct InterpreterFile {
        var symbols: [String: UInt64]
        /// The `.PyRuntime` section's address (3.14+ put `_PyRuntime` there),
        /// for an interpreter whose symbols are stripped.
        var runtimeSection: UInt64?
        /// `_PyEval_EvalFrameDefault`'s parts no symbol names.
        var unnamedEvalLoopParts: [Range<UInt64>] = []
        var lowestLoadAddress: UInt64
        /// From .rodata, read at most once per file: .some(nil) when the
        /// binary names no version.
        var binaryVersion: PythonVersion??
    }

    /// The version in the binary's read-only data: the last resort, for an
    /// interpreter whose memory does not say. Read through this process's
    /// paths: the process that first mapped the file may be gone.
    private func versionInBinary(_ key: String, _ mapping: MemoryMapping, _ directory: ProcessDirectory) -> PythonVersion? {
        if let known = files[key]?.binaryVersion { return known }
        var found: PythonVersion?
        for path in [directory.mappedFilePath(mapping), directory.rootedPath(mapping.path)] {
            guard let rodata = (try? ELFFile.sectionData(path: path, named: ".rodata")) ?? nil else { continue }
            found = PythonVersionScanner.version(inReadOnlyData: rodata,
                                                 expectedMajorMinor: PythonProcessDetector.majorMinorHint(mapping.path))
            files[key]?.binaryVersion = .some(found)
            break
        }
        return found
    }

    /// Symbols and binary version per file (device:inode), shared by all
    /// processes running the same interpreter.
    private var files: [String: InterpreterFile] = [:]
    private let procRoot: String

    public init(procRoot: String = "/proc") {
        self.procRoot = procRoot
    }

    /// nil when the process runs no CPython.
    public func detect(pid: Int32) -> PythonProcess? {
        let directory = ProcessDirectory(pid: pid, procRoot: procRoot)
        guard let mappings = try? directory.mappings(),
              let candidate = PythonProcessDetector.interpreterMapping(in: mappings)
        else { return nil }
        let file: InterpreterFile
        if let known = files[candidate.fileKey] {
            file = known
        } else {
            guard let loaded = load(candidate, in: directory) else { return nil }
            files[candidate.fileKey] = loaded
            file = loaded
        }
        guard file.symbols["Py_Initialize"] != nil else { return nil }
        let isShared = PythonProcessDetector.isLibPython(candidate.path)
        var process = PythonProcess(pid: pid, version: nil, buildKind: isShared ? .shared : .static,
                                    interpreterPath: candidate.path, layout: nil, interpreterHeadAddress: 0)
        let firstMapping = mappings.filter { $0.fileKey == candidate.fileKey }.map(\.start).min() ?? candidate.start
        let bias = firstMapping &- (file.lowestLoadAddress & ~0xfff)
        resolveLayout(&process, file: file, bias: bias, memory: try? ProcessMemory(pid: pid, procRoot: procRoot)) {
            self.versionInBinary(candidate.fileKey, candidate, directory)
        }
        if process.isSupported {
            // Through this process, alive now: the file's first reader may be gone.
            let rooted = directory.rootedPath(candidate.path)
            let path = access(rooted, R_OK) == 0 ? rooted : directory.mappedFilePath(candidate)
            process.startProbe = PythonStartProbe.choose(fileKey: candidate.fileKey, path: path,
                                                         symbols: file.symbols, bias: bias)
        }
        return process
    }

    private func resolveLayout(_ process: inout PythonProcess, file: InterpreterFile, bias: UInt64, memory: ProcessMemory?,
                               binaryVersion: @escaping () -> PythonVersion?) {
        guard let memory else {
            process.refusal = .memoryUnreadable
            return
        }
        process.codeTypeAddress = file.symbols["PyCode_Type"].map { $0 &+ bias }
        process.currentThreadStateAddress = file.symbols["_PyThreadState_Current"].map { $0 &+ bias }
        process.unnamedEvalLoopParts = file.unnamedEvalLoopParts
        let interpreter = PythonInterpreterFacts(
            memory: memory, runtimeAddress: (file.symbols["_PyRuntime"] ?? file.runtimeSection).map { $0 &+ bias },
            interpreterHeadSymbol: file.symbols["interp_head"].map { $0 &+ bias },
            interpreterPath: process.interpreterPath,
            version: { PythonProcessDetector.versionInMemory(file: file, bias: bias, memory: memory) ?? binaryVersion() })
        // A debug build's objects may have a longer header: only a layout
        // read from its own _Py_DebugOffsets says where their fields are.
        let isDebugBuild = file.symbols["_Py_RefTotal"] != nil || file.symbols["_Py_NegativeRefcount"] != nil
        process.isDebugBuild = isDebugBuild
        for family in PythonRuntimeFamilies.all {
            guard let resolution = family.resolve(interpreter) else { continue }
            process.family = family
            if isDebugBuild && !family.readsDebugBuilds {
                process.version = interpreter.version
                process.refusal = .debugBuild
                return
            }
            switch resolution {
            case .refused(let refusal, let version):
                process.version = version ?? interpreter.version
                process.refusal = refusal
            case .layout(let layout, let version):
                process.version = version
                if let refusal = PythonWalkerSupport.refusal(for: layout, version: version) {
                    process.refusal = refusal
                    return
                }
                switch interpreter.interpreterHeadAddress(for: layout) {
                case .success(let address):
                    process.interpreterHeadAddress = address
                    process.layout = layout
                case .failure(let refusal):
                    process.refusal = refusal
                }
            }
            return
        }
        process.version = interpreter.version
        process.refusal = process.version.map { .noLayout($0) } ?? .versionUnknown
    }

    /// 3.11+ exports its version as data (`Py_Version`); older versions
    /// keep sys.version in `Py_GetVersion()`'s static buffer.
    private static func versionInMemory(file: InterpreterFile, bias: UInt64, memory: MemoryReader) -> PythonVersion? {
        if let versionAddress = file.symbols["Py_Version"], let hex = memory.load(UInt64.self, at: versionAddress &+ bias) {
            return PythonVersion(hex: hex & 0xffff_ffff)
        }
        if let buffer = ["version.0", "version.1", "version"].first(where: { file.symbols[$0] != nil }).flatMap({ file.symbols[$0] }),
           let bytes = memory.bytes(buffer &+ bias, count: 32),
           let version = PythonVersionScanner.version(fromSysVersion: bytes) {
            return version
        }
        return nil
    }

    private func load(_ mapping: MemoryMapping, in directory: ProcessDirectory) -> InterpreterFile? {
        for path in [directory.mappedFilePath(mapping), directory.rootedPath(mapping.path)] {
            guard let symbols = try? ELFFile.symbolValues(path: path, names: PythonProcessDetector.interestingSymbols),
                  let lowest = try? ELFFile.lowestLoadAddress(path: path)
            else { continue }
            let runtimeSection = (try? ELFFile.sectionAddress(path: path, named: ".PyRuntime")) ?? nil
            return InterpreterFile(symbols: symbols, runtimeSection: runtimeSection,
                                   unnamedEvalLoopParts: ColdPartLocator.unnamedParts(of: "_PyEval_EvalFrameDefault", path: path),
                                   lowestLoadAddress: lowest, binaryVersion: nil)
        }
        return nil
    }

    /// The mapping that holds the interpreter: a libpython, else the
    /// executable if it is a python binary.
    static func interpreterMapping(in mappings: [MemoryMapping]) -> MemoryMapping? {
        let files = mappings.filter { $0.isFileBacked }
        if let library = files.first(where: { isLibPython($0.path) }) { return library }
        return files.first(where: { baseName($0.path).hasPrefix("python") && $0.fileOffset == 0 })
    }

    static func isLibPython(_ path: String) -> Bool {
        let name = baseName(path)
        return name.hasPrefix("libpython") && name.contains(".so")
    }

    public static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// "3.9" from "libpython3.9.so.1.0" or "python3.9": only to choose among
    /// several version strings in one binary, never as the version itself.
    static func majorMinorHint(_ path: String) -> String? {
        let name = baseName(path)
        guard let start = name.firstIndex(where: \.isNumber) else { return nil }
        let digits = name[start...].prefix(while: { $0.isNumber || $0 == "." })
        let parts = digits.split(separator: ".")
        guard parts.count >= 2 else { return nil }
        return "\(parts[0]).\(parts[1])"
    }
}
