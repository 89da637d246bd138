import ProcessInspection

/// Names the Python frames of one process: code object address and stamp to
/// (name, file, line), read from the live process and cached, so each code
/// object is read once.
public final class PythonSymbolizer {
    public struct Frame: Equatable, Sendable {
        public var name: String
        public var filename: String
        public var line: Int
    }

    public enum Failure: String, CaseIterable, Sendable {
        /// The code object could not be read (freed, or process gone).
        case unreadableCode = "unreadable code object"
        /// The address now holds another code object than the sample saw.
        case staleCode = "code object replaced"
    }

    public let process: PythonProcess
    private let reader: PythonObjectReader?
    /// Code objects named from the kernel's captures, and captures that
    /// could not be read (a string longer than the capture holds).
    public private(set) var capturesNamed = 0
    public private(set) var capturesUnreadable = 0
    /// Code objects already read (nil: replaced by another since): about
    /// 64k per process at most, and only those used in the last minute or
    /// so (a generation lasts `cacheGenerationSeconds`), so that memory
    /// levels off soon however slowly a process makes new code. One that
    /// is dropped and seen again is read again from the live process.
    private var codes = GenerationalCache<CodeKey, CodeObject?>(generationSize: 32_768, maximumAgeSeconds: cacheGenerationSeconds)
    private var unreadable = GenerationalCache<CodeKey, Int>(generationSize: 4096, maximumAgeSeconds: cacheGenerationSeconds)
    /// Captures whose line table did not fit: used only when the live
    /// code object cannot be read, since every line would be the first.
    private var partialCaptures = GenerationalCache<CodeKey, CodeObject>(generationSize: 4096,
                                                                        maximumAgeSeconds: cacheGenerationSeconds)
    static let cacheGenerationSeconds = 30.0
    static let readAttempts = 3
    public private(set) var failures: [Failure: Int] = [:]

    private struct CodeKey: Hashable {
        var address: UInt64
        var stamp: UInt32
    }

    public init(process: PythonProcess, memory: MemoryReader?) {
        self.process = process
        if let memory, let layout = process.layout {
            var objects = PythonObjectReader(memory: memory, layout: layout)
            objects.codeType = process.codeTypeAddress
            reader = objects
        } else {
            reader = nil
        }
    }

    /// Names a code object from the bytes the kernel copied at sample
    /// time; live reads are no longer needed for it, so it is named even
    /// once freed. A capture that disagrees with its stamp is ignored.
    public func add(_ capture: CapturedCodeObject) {
        guard let layout = process.layout else { return }
        var objects = PythonObjectReader(memory: capture.memory, layout: layout)
        objects.codeType = process.codeTypeAddress
        guard let object = objects.codeObject(at: capture.code, lineTableRequired: false), object.stamp == capture.stamp else {
            capturesUnreadable += 1
            return
        }
        capturesNamed += 1
        let key = CodeKey(address: capture.code, stamp: capture.stamp)
        guard codes[key] == nil else { return }
        if object.lineTable.isEmpty {
            // Its line table was longer than the capture: every line would
            // be the first. Kept for when the live object is gone.
            partialCaptures.insert(object, for: key)
        } else {
            codes.insert(object, for: key)
        }
    }

    /// nil, counted in `failures`, when the frame cannot be named.
    public func frame(code: UInt64, instruction: Int32, stamp: UInt32) -> Frame? {
        guard let reader, let layout = process.layout else { return nil }
        let key = CodeKey(address: code, stamp: stamp)
        let object: CodeObject?
        if let cached = codes[key] {
            object = cached
        } else if (unreadable[key] ?? 0) >= PythonSymbolizer.readAttempts {
            object = nil
        } else {
            let read = reader.codeObject(at: code)
            if read == nil || read?.stamp != stamp, let partial = partialCaptures[key] {
                // Freed (or its address reused) before it could be read
                // whole: named from the capture, on its first line.
                codes.insert(partial, for: key)
                object = partial
            } else if read == nil {
                // Perhaps caught mid-update; a later sample may read it.
                unreadable.insert((unreadable[key] ?? 0) + 1, for: key)
                failures[.unreadableCode, default: 0] += 1
                object = nil
            } else if read?.stamp != stamp {
                failures[.staleCode, default: 0] += 1
                codes.insert(nil, for: key)
                object = nil
            } else {
                codes.insert(read, for: key)
                object = read
            }
        }
        guard let object else { return nil }
        return Frame(name: object.name, filename: object.filename,
                     line: object.line(at: Int(instruction), layout: layout))
    }
}
