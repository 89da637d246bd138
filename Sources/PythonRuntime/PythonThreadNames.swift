import ProcessInspection

/// The names `threading` gave a process's threads (`Thread.name`), read
/// from its memory: `threading._active` maps each thread's ident (its
/// pthread_self(), the thread state's `thread_id`) to its `Thread`, whose
/// `_name` holds the name.
///
/// `threading`'s module dict is found through a frame running code of
/// `threading.py` (every thread `threading` started runs its
/// `Thread._bootstrap`; a main thread in `join()` does too): the frame's
/// globals are that dict. A process none of whose threads is in
/// `threading.py` gets no names, and its threads keep their OS names.
/// What was found is kept: the dict's address, and the text of the dict
/// keys read (interned strings, which live as long as the program).
public final class PythonThreadNames {
    private let memory: MemoryReader
    private let layout: PythonLayout
    private let process: PythonProcess
    private let objects: ObjectOffsets?
    private let strings: PythonObjectReader
    /// `threading._active`, once found.
    private var activeDict: UInt64?
    private var keyText: [UInt64: String] = [:]

    /// Dict entries read at most: a larger count is garbage.
    static let entryLimit = 1 << 16
    /// Frames of one thread searched for a frame of threading.py.
    static let frameLimit = 256

    public init(process: PythonProcess, memory: MemoryReader) {
        self.memory = memory
        self.process = process
        let layout = process.layout ?? PythonLayoutTable.layout(for: PythonVersion(major: 3, minor: 12, micro: 0))!
        self.layout = layout
        objects = process.layout == nil ? nil : process.version.flatMap { ObjectOffsets(version: $0, layout: layout) }
        strings = PythonObjectReader(memory: memory, layout: layout)
    }

    /// Each Python thread's name by its ident (`threading.get_ident()`);
    /// empty when `threading` is not found or not imported.
    public func namesByIdent(threadStates: [PythonThreadList.Entry]) -> [UInt64: String] {
        guard let objects else { return [:] }
        if activeDict == nil || !isDict(activeDict!) {
            activeDict = findActiveDict(threadStates: threadStates, objects)
        }
        guard let active = activeDict, let entries = dictEntries(active, objects) else { return [:] }
        var names: [UInt64: String] = [:]
        for (key, thread) in entries {
            guard let ident = integer(at: key, objects),
                  let name = attribute(objects.nameAttribute, of: thread, objects).flatMap(strings.string(at:)) else { continue }
            names[ident] = name
        }
        return names
    }

    /// Each thread's name by its kernel tid, among `tids`.
    public func namesByTID(_ tids: Set<Int32>) -> [Int32: String] {
        guard case .success(let states) = PythonThreadList.read(
            memory: memory, layout: layout, interpreterHeadAddress: process.interpreterHeadAddress) else { return [:] }
        let byIdent = namesByIdent(threadStates: states)
        guard !byIdent.isEmpty else { return [:] }
        let tidOf = PthreadTIDs.map(pthreads: states.map(\.threadID), tids: tids, memory: memory)
        var names: [Int32: String] = [:]
        for (pthread, tid) in tidOf { names[tid] = byIdent[pthread] }
        return names
    }

    // MARK: - Finding threading._active

    private func findActiveDict(threadStates: [PythonThreadList.Entry], _ objects: ObjectOffsets) -> UInt64? {
        for state in threadStates {
            guard let globals = threadingGlobals(threadState: state.address, objects) else { continue }
            if let active = lookup("_active", in: globals, objects), isDict(active) { return active }
        }
        return nil
    }

    /// The globals of the innermost frame of `threading.py` in the thread.
    private func threadingGlobals(threadState: UInt64, _ objects: ObjectOffsets) -> UInt64? {
        guard var frame = pointer(threadState, layout.threadFrame) else { return nil }
        if let current = layout.cframeCurrentFrame, frame != 0 {
            guard let inner = pointer(frame, current) else { return nil }
            frame = inner
        }
        var seen = Set<UInt64>()
        while frame != 0, seen.count < Self.frameLimit, seen.insert(frame).inserted {
            let ownedByInterpreter = layout.frameOwner.flatMap { memory.load(UInt8.self, at: frame &+ UInt64($0)) }
                .map { $0 >= 3 } ?? false
            if !ownedByInterpreter, let code = pointer(frame, layout.frameCode).map({ $0 & ~layout.frameExecutableTagBits }),
               let filename = pointer(code, layout.codeFilename).flatMap(strings.string(at:)),
               filename.hasSuffix("threading.py") {
                return pointer(frame, objects.frameGlobals)
            }
            guard let previous = pointer(frame, layout.framePrevious) else { return nil }
            frame = previous
        }
        return nil
    }

    // MARK: - Objects

    private func pointer(_ base: UInt64, _ offset: Int) -> UInt64? {
        memory.load(UInt64.self, at: base &+ UInt64(bitPattern: Int64(offset)))
    }

    private func typeName(of object: UInt64) -> String? {
        guard let type = pointer(object, layout.objects.objectType),
              let name = pointer(type, 24 + layout.objects.objectType - 8) else { return nil }
        guard let bytes = memory.bytes(name, count: 16) else { return nil }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private func isDict(_ object: UInt64) -> Bool { typeName(of: object) == "dict" }

    /// A str-keyed lookup, by reading every key.
    private func lookup(_ key: String, in dict: UInt64, _ objects: ObjectOffsets) -> UInt64? {
        dictEntries(dict, objects)?.first { text(ofKey: $0.key) == key }?.value
    }

    private func text(ofKey key: UInt64) -> String? {
        if let known = keyText[key] { return known }
        guard let text = strings.string(at: key) else { return nil }
        if keyText.count >= 4096 { keyText.removeAll() }
        keyText[key] = text
        return text
    }

    /// The (key, value) pairs of a dict, values present only.
    private func dictEntries(_ dict: UInt64, _ objects: ObjectOffsets) -> [(key: UInt64, value: UInt64)]? {
        let shift = objects.headerShift
        switch objects.dict {
        case .python27:
            guard let mask = pointer(dict, 32 + shift), mask < Self.entryLimit, let table = pointer(dict, 40 + shift) else { return nil }
            return entries(at: table, count: Int(mask) + 1, stride: 24, keyAt: 8, values: nil, objects)
        case .compact36, .compact311:
            guard let keys = pointer(dict, 32 + shift), let values = pointer(dict, 40 + shift) else { return nil }
            return keysEntries(keys, values: values == 0 ? nil : values &+ UInt64(objects.valuesArray), objects)
        }
    }

    /// The entries of a PyDictKeysObject; `values` is a split table's
    /// values array, else the values sit in the entries.
    private func keysEntries(_ keys: UInt64, values: UInt64?, _ objects: ObjectOffsets) -> [(key: UInt64, value: UInt64)]? {
        switch objects.dict {
        case .python27:
            return nil
        case .compact36:
            guard let size = pointer(keys, 8), size > 0, size <= Self.entryLimit * 2,
                  let count = pointer(keys, 32), count <= size else { return nil }
            let width: UInt64 = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffff_ffff ? 4 : 8
            return entries(at: keys &+ 40 &+ size * width, count: Int(count), stride: 24, keyAt: 8, values: values, objects)
        case .compact311:
            guard let bytes = memory.bytes(keys &+ 8, count: 3), bytes[1] < 40,
                  let count = pointer(keys, 24), count < Self.entryLimit else { return nil }
            let unicode = bytes[2] != 0
            return entries(at: keys &+ 32 &+ (1 << UInt64(bytes[1])), count: Int(count), stride: unicode ? 16 : 24,
                           keyAt: unicode ? 0 : 8, values: values, objects)
        }
    }

    private func entries(at start: UInt64, count: Int, stride: Int, keyAt: Int, values: UInt64?,
                         _ objects: ObjectOffsets) -> [(key: UInt64, value: UInt64)]? {
        guard count >= 0, count <= Self.entryLimit,
              let table = memory.bytes(start, count: count * stride) else { return nil }
        let valueTable = values.flatMap { memory.bytes($0, count: count * 8) }
        if values != nil && valueTable == nil { return nil }
        func word(_ bytes: [UInt8], _ at: Int) -> UInt64 {
            bytes[at..<at + 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
        }
        var pairs: [(key: UInt64, value: UInt64)] = []
        for index in 0..<count {
            let key = word(table, index * stride + keyAt)
            let value = valueTable.map { word($0, index * 8) } ?? word(table, index * stride + keyAt + 8)
            if key != 0 && value != 0 { pairs.append((key, value)) }
        }
        return pairs
    }

    /// An instance attribute, from the instance's dict or its values.
    private func attribute(_ name: String, of object: UInt64, _ objects: ObjectOffsets) -> UInt64? {
        guard let type = pointer(object, layout.objects.objectType) else { return nil }
        let shift = objects.headerShift
        func fromValues(_ values: UInt64) -> UInt64? {
            guard let keys = pointer(type, objects.heapTypeCachedKeys + shift),
                  let pairs = keysEntries(keys, values: values, objects) else { return nil }
            return pairs.first { text(ofKey: $0.key) == name }?.value
        }
        switch objects.instanceDict {
        case .dictOffset:
            guard let offset = pointer(type, 288 + shift).map({ Int64(bitPattern: $0) }), offset > 0,
                  let dict = pointer(object, Int(offset)), dict != 0 else { return nil }
            return lookup(name, in: dict, objects)
        case .managed311:
            if let values = pointer(object, -32), values != 0 { return fromValues(values) }
            guard let dict = pointer(object, -24), dict != 0 else { return nil }
            return lookup(name, in: dict, objects)
        case .managed312:
            guard let tagged = pointer(object, -24), tagged != 0 else { return nil }
            // 3.12 stores values as `(char *)values - 1`.
            if tagged & 1 != 0 { return fromValues(tagged &+ 1) }
            return lookup(name, in: tagged, objects)
        case .inline313:
            if let dict = pointer(object, -24), dict != 0 { return lookup(name, in: dict, objects) }
            guard let flags = pointer(type, 168 + shift), flags & (1 << 2) != 0,
                  let basicSize = pointer(type, 32 + shift), basicSize < 1 << 16 else { return nil }
            let values = object &+ basicSize
            guard memory.load(UInt8.self, at: values &+ 3) == 1 else { return nil }
            return fromValues(values &+ 8)
        }
    }

    /// A Python int that fits in 64 bits (an ident does).
    private func integer(at object: UInt64, _ objects: ObjectOffsets) -> UInt64? {
        let shift = objects.headerShift
        switch objects.integers {
        case .python27:
            // `int` (ob_ival) or, past LONG_MAX, `long` (digits as below).
            if typeName(of: object) == "int" { return pointer(object, 16 + shift) }
            return digits(object, count: pointer(object, 16 + shift).map { Int64(bitPattern: $0) }, objects)
        case .sizedDigits:
            return digits(object, count: pointer(object, 16 + shift).map { Int64(bitPattern: $0) }, objects)
        case .taggedDigits:
            guard let tag = pointer(object, 16 + shift) else { return nil }
            if tag & 3 == 1 { return 0 }
            guard tag & 3 == 0 else { return nil }
            return digits(object, count: Int64(tag >> 3), objects)
        }
    }

    /// 30-bit digits, least significant first, after the size field.
    private func digits(_ object: UInt64, count: Int64?, _ objects: ObjectOffsets) -> UInt64? {
        guard let count, count >= 0, count <= 3,
              let bytes = memory.bytes(object &+ 24 &+ UInt64(objects.headerShift), count: Int(count) * 4) else { return nil }
        var value: UInt64 = 0
        for index in (0..<Int(count)).reversed() {
            let digit = bytes[index * 4..<index * 4 + 4].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
            value = value << 30 | digit
        }
        return value
    }

    /// Where a version keeps what names need. Offsets are x86_64, checked
    /// with offsetof() against each version's headers (pyenv 3.11 to 3.13,
    /// Debian unstable's 3.14 and 3.15); 2.7 to 3.10 from CPython's sources
    /// (`Objects/dict-common.h`, `Include/frameobject.h`), which do not
    /// install them.
    struct ObjectOffsets {
        enum Dict { case python27, compact36, compact311 }
        enum InstanceDict { case dictOffset, managed311, managed312, inline313 }
        enum Integers { case python27, sizedDigits, taggedDigits }

        var frameGlobals: Int
        var dict: Dict
        /// Where a split dict's values start in its `PyDictValues`.
        var valuesArray = 0
        var instanceDict: InstanceDict
        /// `PyHeapTypeObject.ht_cached_keys`: the keys of split values.
        var heapTypeCachedKeys = 0
        var integers: Integers
        /// `Thread.__name`, mangled, on 2.7.
        var nameAttribute = "_name"
        /// A free-threaded build's object header is longer.
        var headerShift: Int

        init?(version: PythonVersion, layout: PythonLayout) {
            headerShift = layout.objects.objectType - 8
            switch (version.major, version.minor) {
            case (2, 7):
                frameGlobals = 48; dict = .python27; instanceDict = .dictOffset; integers = .python27
                nameAttribute = "_Thread__name"
            case (3, 6...10):
                frameGlobals = 48; dict = .compact36; instanceDict = .dictOffset; integers = .sizedDigits
            case (3, 11):
                frameGlobals = 8; dict = .compact311; instanceDict = .managed311; heapTypeCachedKeys = 872
                integers = .sizedDigits
            case (3, 12):
                frameGlobals = 24; dict = .compact311; instanceDict = .managed312; heapTypeCachedKeys = 880
                integers = .taggedDigits
            case (3, 13), (3, 14):
                frameGlobals = 24; dict = .compact311; valuesArray = 8; instanceDict = .inline313
                heapTypeCachedKeys = 880; integers = .taggedDigits
            case (3, 15):
                frameGlobals = 24; dict = .compact311; valuesArray = 8; instanceDict = .inline313
                heapTypeCachedKeys = 888; integers = .taggedDigits
            default:
                return nil
            }
        }
    }
}
