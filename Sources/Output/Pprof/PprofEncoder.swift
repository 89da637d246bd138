import Aggregation

/// Builds pprof's `Profile` message from the model, without I/O.
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
struct PprofEncoder {
    private var strings = PprofStringTable()
    private var mappings: [Perftools_Profiles_Mapping] = []
    private var mappingIDs: [MappingKey: UInt64] = [:]
    private var functions: [Perftools_Profiles_Function] = []
    private var functionIDs: [FunctionKey: UInt64] = [:]
    private var locations: [Perftools_Profiles_Location] = []
    /// By index in `Profile.frames`.
    private var locationIDs: [Int32: UInt64] = [:]

    private struct MappingKey: Hashable {
        var file: String
        var buildID: String?
    }

    private struct FunctionKey: Hashable {
        var name: String
        var systemName: String
        var file: String
    }

    static func message(for profile: Profile) -> Perftools_Profiles_Profile {
        var encoder = PprofEncoder()
        return encoder.encode(profile)
    }

    private mutating func encode(_ profile: Profile) -> Perftools_Profiles_Profile {
        var message = Perftools_Profiles_Profile()
        message.sampleType = profile.sampleTypes.map { valueType($0) }
        message.defaultSampleType = strings.index(profile.sampleTypes[profile.defaultSampleType].name)
        if let recording = profile.recording {
            message.timeNanos = Int64(clamping: recording.startUnixNanoseconds)
            message.durationNanos = Int64(clamping: recording.durationNanoseconds)
            // One sampling event stands for a period of the profile's time type.
            let time = profile.sampleTypes.first { $0.unit == .nanoseconds } ?? .cpuTime
            message.periodType = valueType(time)
            message.period = Int64(recording.periodNanoseconds)
            message.comment = [strings.index("recorded by pyrograph at \(recording.frequency) Hz")]
        }
        message.sample = profile.stacks.map { sample(for: $0, in: profile) }
        message.mapping = mappings
        message.location = locations
        message.function = functions
        message.stringTable = strings.strings
        return message
    }

    private mutating func valueType(_ type: SampleType) -> Perftools_Profiles_ValueType {
        var value = Perftools_Profiles_ValueType()
        value.type = strings.index(type.name)
        value.unit = strings.index(type.unit.rawValue)
        return value
    }

    private mutating func sample(for stack: Profile.Stack, in profile: Profile) -> Perftools_Profiles_Sample {
        var sample = Perftools_Profiles_Sample()
        sample.value = stack.values.map { Int64(clamping: $0) }
        var code = stack.frames[...]
        if let first = code.first, profile.frames[Int(first)].kind == .process {
            let process = profile.frames[Int(first)]
            if let pid = process.id { sample.label.append(numberLabel(PprofLabel.pid, Int64(pid))) }
            sample.label.append(textLabel(PprofLabel.processName, process.function))
            code = code.dropFirst()
            if let second = code.first, profile.frames[Int(second)].kind == .thread {
                let thread = profile.frames[Int(second)]
                if let tid = thread.id { sample.label.append(numberLabel(PprofLabel.tid, Int64(tid))) }
                sample.label.append(textLabel(PprofLabel.threadName, thread.function))
                code = code.dropFirst()
            }
        }
        sample.locationID = code.reversed().map { location(for: $0, in: profile) }
        return sample
    }

    private mutating func textLabel(_ key: String, _ value: String) -> Perftools_Profiles_Label {
        var label = Perftools_Profiles_Label()
        label.key = strings.index(key)
        label.str = strings.index(value)
        return label
    }

    private mutating func numberLabel(_ key: String, _ value: Int64) -> Perftools_Profiles_Label {
        var label = Perftools_Profiles_Label()
        label.key = strings.index(key)
        label.num = value
        return label
    }

    private mutating func location(for index: Int32, in profile: Profile) -> UInt64 {
        if let id = locationIDs[index] { return id }
        let frame = profile.frames[Int(index)]
        var location = Perftools_Profiles_Location()
        location.id = UInt64(locations.count + 1)
        switch frame.kind {
        case .python:
            location.line = [line(function(name: frame.function, systemName: frame.function, file: frame.file ?? ""),
                                  frame.line ?? 0)]
        case .native:
            location.mappingID = mapping(frame.module ?? PprofFrameCode.unknownModuleMapping, buildID: frame.buildID)
            location.address = frame.offset ?? 0
            if !frame.function.isEmpty {
                location.line = [line(function(name: frame.function, systemName: frame.function, file: ""), 0)]
            }
        case .kernel:
            location.mappingID = mapping(PprofFrameCode.kernelMapping, buildID: nil)
            location.line = [line(function(name: frame.function, systemName: frame.function, file: ""), 0)]
        case .annotation, .process, .thread:
            location.mappingID = mapping(PprofFrameCode.pyrographMapping, buildID: nil)
            let name = frame.kind == .annotation ? FrameNaming.displayName(frame) : frame.function
            location.line = [line(function(name: name, systemName: PprofFrameCode.code(for: frame), file: ""), 0)]
        }
        locations.append(location)
        locationIDs[index] = location.id
        return location.id
    }

    private func line(_ functionID: UInt64, _ number: Int) -> Perftools_Profiles_Line {
        var line = Perftools_Profiles_Line()
        line.functionID = functionID
        line.line = Int64(number)
        return line
    }

    private mutating func function(name: String, systemName: String, file: String) -> UInt64 {
        let key = FunctionKey(name: name, systemName: systemName, file: file)
        if let id = functionIDs[key] { return id }
        var function = Perftools_Profiles_Function()
        function.id = UInt64(functions.count + 1)
        function.name = strings.index(name)
        function.systemName = strings.index(systemName)
        function.filename = strings.index(file)
        functions.append(function)
        functionIDs[key] = function.id
        return function.id
    }

    private mutating func mapping(_ file: String, buildID: String?) -> UInt64 {
        let key = MappingKey(file: file, buildID: buildID)
        if let id = mappingIDs[key] { return id }
        var mapping = Perftools_Profiles_Mapping()
        mapping.id = UInt64(mappings.count + 1)
        mapping.filename = strings.index(file)
        mapping.buildID = strings.index(buildID ?? "")
        // Names come from the recording: viewers must not look for the
        // binary to symbolize it again.
        mapping.hasFunctions_p = true
        mappings.append(mapping)
        mappingIDs[key] = mapping.id
        return mapping.id
    }
}
