import Aggregation

/// Encodes the model as pprof's `Profile` message (`profile.proto`), without
/// I/O, straight into protobuf's wire format (`ProtobufBytes`).
///
/// - Each stack is one pprof sample: its root process and thread frames
///   become labels (pid, process, tid, thread), the rest locations, leaf
///   first.
/// - Python frames are locations without a mapping: one line, whose
///   function carries the qualname and the file.
/// - Native frames lie in a mapping per module (with its build ID); an
///   address no symbol covers is a location with the module offset as its
///   address and no line. Kernel frames lie in `[kernel.kallsyms]`.
/// - Everything else is a function of the `[pyrograph]` pseudo-mapping
///   (`PprofFrameCode`).
///
/// Fields are written in field-number order, and the tables in the order
/// their entries are first used, as SwiftProtobuf would serialize the
/// same message.
struct PprofEncoder {
    private enum Field {
        // Profile
        static let sampleType = 1, sample = 2, mapping = 3, location = 4, function = 5, stringTable = 6
        static let timeNanos = 9, durationNanos = 10, periodType = 11, period = 12, comment = 13
        static let defaultSampleType = 14
        // ValueType
        static let valueTypeType = 1, valueTypeUnit = 2
        // Sample
        static let sampleLocationID = 1, sampleValue = 2, sampleLabel = 3
        // Label
        static let labelKey = 1, labelString = 2, labelNumber = 3
        // Mapping
        static let mappingID = 1, mappingFilename = 5, mappingBuildID = 6, mappingHasFunctions = 7
        // Location
        static let locationID = 1, locationMappingID = 2, locationAddress = 3, locationLine = 4
        // Line
        static let lineFunctionID = 1, lineNumber = 2
        // Function
        static let functionID = 1, functionName = 2, functionSystemName = 3, functionFilename = 4
    }

    private var strings = PprofStringTable()
    private var mappings = ProtobufBytes()
    private var mappingCount: UInt64 = 0
    private var mappingIDs: [MappingKey: UInt64] = [:]
    private var functions = ProtobufBytes()
    private var functionCount: UInt64 = 0
    private var functionIDs: [FunctionKey: UInt64] = [:]
    private var locations = ProtobufBytes()
    private var locationCount: UInt64 = 0
    /// By index in `Profile.frames`; 0 for a frame with no location yet.
    private var locationIDs: [UInt64]
    /// By index in `Profile.frames`: a root frame's name in the string
    /// table, once its first label is written; -1 before.
    private var labelNames: [Int64]
    /// By `LabelKey`: the key's place in the string table, once written; -1 before.
    private var labelKeys: [Int64] = [-1, -1, -1, -1]
    /// Nested messages under construction, reused.
    private var message = ProtobufBytes(), part = ProtobufBytes(), scratch = ProtobufBytes()

    private struct MappingKey: Hashable {
        var file: String
        var buildID: String?
    }

    private struct FunctionKey: Hashable {
        var name: String
        var systemName: String
        var file: String
    }

    private enum LabelKey: Int {
        case pid, process, tid, thread

        var name: String {
            switch self {
            case .pid: return PprofLabel.pid
            case .process: return PprofLabel.processName
            case .tid: return PprofLabel.tid
            case .thread: return PprofLabel.threadName
            }
        }
    }

    private init(frameCount: Int) {
        locationIDs = Array(repeating: 0, count: frameCount)
        labelNames = Array(repeating: -1, count: frameCount)
    }

    /// The serialized message.
    static func encoded(_ profile: Profile) -> [UInt8] {
        var encoder = PprofEncoder(frameCount: profile.frames.count)
        return encoder.encode(profile)
    }

    private mutating func encode(_ profile: Profile) -> [UInt8] {
        // Sample stacks average a few dozen frames; a byte or two each.
        var out = ProtobufBytes(capacity: profile.stacks.count * 64 + 4096)
        for type in profile.sampleTypes { out.append(Field.sampleType, message: valueType(type)) }
        let defaultType = strings.index(profile.sampleTypes[profile.defaultSampleType].name)
        var periodType: ProtobufBytes?
        var comment: Int64?
        if let recording = profile.recording {
            // One sampling event stands for a period of the profile's time type.
            periodType = valueType(profile.sampleTypes.first { $0.unit == .nanoseconds } ?? .cpuTime)
            comment = strings.index("recorded by pyrograph at \(recording.frequency) Hz")
        }
        for stack in profile.stacks { appendSample(for: stack, in: profile, to: &out) }
        out.append(raw: mappings)
        out.append(raw: locations)
        out.append(raw: functions)
        for string in strings.strings { out.append(Field.stringTable, element: string) }
        if let recording = profile.recording {
            out.append(Field.timeNanos, int64: Int64(clamping: recording.startUnixNanoseconds))
            out.append(Field.durationNanos, int64: Int64(clamping: recording.durationNanoseconds))
            if let periodType { out.append(Field.periodType, message: periodType) }
            out.append(Field.period, int64: Int64(clamping: recording.periodNanoseconds))
        }
        if let comment {
            out.append(Field.comment, packed: CollectionOfOne(UInt64(bitPattern: comment)), scratch: &scratch)
        }
        out.append(Field.defaultSampleType, int64: defaultType)
        return out.bytes
    }

    private mutating func valueType(_ type: SampleType) -> ProtobufBytes {
        var value = ProtobufBytes()
        value.append(Field.valueTypeType, int64: strings.index(type.name))
        value.append(Field.valueTypeUnit, int64: strings.index(type.unit.rawValue))
        return value
    }

    private mutating func appendSample(for stack: Profile.Stack, in profile: Profile, to out: inout ProtobufBytes) {
        var code = stack.frames[...]
        // Labels, their strings interned in the order they are written.
        var labels: [(key: Int64, value: Int64, isNumber: Bool)] = []
        if let first = code.first, profile.frames[Int(first)].kind == .process {
            let process = profile.frames[Int(first)]
            if let pid = process.id { labels.append((index(of: .pid), Int64(pid), true)) }
            labels.append((index(of: .process), labelName(of: first, in: profile), false))
            code = code.dropFirst()
            if let second = code.first, profile.frames[Int(second)].kind == .thread {
                let thread = profile.frames[Int(second)]
                if let tid = thread.id { labels.append((index(of: .tid), Int64(tid), true)) }
                labels.append((index(of: .thread), labelName(of: second, in: profile), false))
                code = code.dropFirst()
            }
        }
        // Locations are made (and interned) before the sample is assembled.
        var locationIDs: [UInt64] = []
        locationIDs.reserveCapacity(code.count)
        for frame in code.reversed() { locationIDs.append(location(for: frame, in: profile)) }

        message.removeAll()
        message.append(Field.sampleLocationID, packed: locationIDs, scratch: &scratch)
        message.append(Field.sampleValue, packed: stack.values.lazy.map { UInt64(bitPattern: Int64(clamping: $0)) },
                       scratch: &scratch)
        for label in labels {
            part.removeAll()
            part.append(Field.labelKey, int64: label.key)
            part.append(label.isNumber ? Field.labelNumber : Field.labelString, int64: label.value)
            message.append(Field.sampleLabel, message: part)
        }
        out.append(Field.sample, message: message)
    }

    private mutating func index(of key: LabelKey) -> Int64 {
        if labelKeys[key.rawValue] < 0 { labelKeys[key.rawValue] = strings.index(key.name) }
        return labelKeys[key.rawValue]
    }

    private mutating func labelName(of frame: Int32, in profile: Profile) -> Int64 {
        if labelNames[Int(frame)] < 0 { labelNames[Int(frame)] = strings.index(profile.frames[Int(frame)].function) }
        return labelNames[Int(frame)]
    }

    private mutating func location(for index: Int32, in profile: Profile) -> UInt64 {
        if locationIDs[Int(index)] != 0 { return locationIDs[Int(index)] }
        let frame = profile.frames[Int(index)]
        var mappingID: UInt64 = 0
        var address: UInt64 = 0
        var functionID: UInt64?
        var lineNumber = 0
        switch frame.kind {
        case .python:
            functionID = function(name: frame.function, systemName: frame.function, file: frame.file ?? "")
            lineNumber = frame.line ?? 0
        case .native:
            mappingID = mapping(frame.module ?? PprofFrameCode.unknownModuleMapping, buildID: frame.buildID)
            address = frame.offset ?? 0
            if !frame.function.isEmpty {
                functionID = function(name: frame.function, systemName: frame.function, file: "")
            }
        case .kernel:
            mappingID = mapping(PprofFrameCode.kernelMapping, buildID: nil)
            functionID = function(name: frame.function, systemName: frame.function, file: "")
        case .annotation, .process, .thread:
            mappingID = mapping(PprofFrameCode.pyrographMapping, buildID: nil)
            let name = frame.kind == .annotation ? FrameNaming.displayName(frame) : frame.function
            functionID = function(name: name, systemName: PprofFrameCode.code(for: frame), file: "")
        }
        locationCount += 1
        part.removeAll()
        part.append(Field.locationID, varint: locationCount)
        part.append(Field.locationMappingID, varint: mappingID)
        part.append(Field.locationAddress, varint: address)
        if let functionID {
            scratch.removeAll()
            scratch.append(Field.lineFunctionID, varint: functionID)
            scratch.append(Field.lineNumber, int64: Int64(lineNumber))
            part.append(Field.locationLine, message: scratch)
        }
        locations.append(Field.location, message: part)
        locationIDs[Int(index)] = locationCount
        return locationCount
    }

    private mutating func function(name: String, systemName: String, file: String) -> UInt64 {
        let key = FunctionKey(name: name, systemName: systemName, file: file)
        if let id = functionIDs[key] { return id }
        functionCount += 1
        scratch.removeAll()
        scratch.append(Field.functionID, varint: functionCount)
        scratch.append(Field.functionName, int64: strings.index(name))
        scratch.append(Field.functionSystemName, int64: strings.index(systemName))
        scratch.append(Field.functionFilename, int64: strings.index(file))
        functions.append(Field.function, message: scratch)
        functionIDs[key] = functionCount
        return functionCount
    }

    private mutating func mapping(_ file: String, buildID: String?) -> UInt64 {
        let key = MappingKey(file: file, buildID: buildID)
        if let id = mappingIDs[key] { return id }
        mappingCount += 1
        scratch.removeAll()
        scratch.append(Field.mappingID, varint: mappingCount)
        scratch.append(Field.mappingFilename, int64: strings.index(file))
        scratch.append(Field.mappingBuildID, int64: strings.index(buildID ?? ""))
        // Names come from the recording: viewers must not look for the
        // binary to symbolize it again.
        scratch.append(Field.mappingHasFunctions, varint: 1)
        mappings.append(Field.mapping, message: scratch)
        mappingIDs[key] = mappingCount
        return mappingCount
    }
}
