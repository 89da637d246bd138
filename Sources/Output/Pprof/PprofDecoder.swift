import Aggregation

/// Builds the model from pprof's `Profile` message, checking every
/// reference first: a file from elsewhere is untrusted input.
///
/// What `PprofEncoder` writes comes back as it was. Other producers'
/// profiles (Go's CPU profiles, say) read as well when their units are
/// ones the model has: locations in a mapping are native frames of that
/// module, kernel ones in `[kernel.kallsyms]`, locations without a mapping
/// are Python frames, and inlined lines become frames of their own.
struct PprofDecoder {
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    private let message: Perftools_Profiles_Profile
    private var mappings: [UInt64: Perftools_Profiles_Mapping] = [:]
    private var functions: [UInt64: Perftools_Profiles_Function] = [:]
    /// Each location's frames, root first.
    private var locationFrames: [UInt64: [Frame]] = [:]

    static func profile(from message: Perftools_Profiles_Profile) throws -> Profile {
        var decoder = PprofDecoder(message: message)
        return try decoder.decode()
    }

    private init(message: Perftools_Profiles_Profile) {
        self.message = message
    }

    private func string(_ index: Int64, _ what: String) throws -> String {
        guard index >= 0, index < message.stringTable.count else {
            throw Malformed(description: "\(what) refers to string \(index), past the string table's \(message.stringTable.count)")
        }
        return message.stringTable[Int(index)]
    }

    private mutating func decode() throws -> Profile {
        guard message.stringTable.first == "" else {
            throw Malformed(description: "the string table does not start with the empty string")
        }
        guard !message.sampleType.isEmpty else { throw Malformed(description: "no sample types") }
        var types: [SampleType] = []
        for valueType in message.sampleType {
            let name = try string(valueType.type, "a sample type")
            let unitName = try string(valueType.unit, "a sample type's unit")
            guard let unit = SampleType.Unit(rawValue: unitName) else {
                throw Malformed(description: "sample type \(UntrustedText.escaped(name)) is in \(UntrustedText.escaped(unitName)); "
                    + "pyrograph reads \(SampleType.Unit.allCases.map(\.rawValue).joined(separator: " and ")) only")
            }
            types.append(SampleType(name: name, unit: unit))
        }
        let defaultName = try string(message.defaultSampleType, "the default sample type")
        let defaultType = message.defaultSampleType == 0 ? types.count - 1 : types.firstIndex { $0.name == defaultName }
        guard let defaultType else {
            throw Malformed(description: "the default sample type \(UntrustedText.escaped(defaultName)) is not one of the sample types")
        }
        var profile = Profile(sampleTypes: types, defaultSampleType: defaultType)
        for mapping in message.mapping {
            guard mapping.id != 0, mappings.updateValue(mapping, forKey: mapping.id) == nil else {
                throw Malformed(description: "mapping id \(mapping.id) is zero or repeated")
            }
        }
        for function in message.function {
            guard function.id != 0, functions.updateValue(function, forKey: function.id) == nil else {
                throw Malformed(description: "function id \(function.id) is zero or repeated")
            }
        }
        for location in message.location {
            guard location.id != 0, locationFrames[location.id] == nil else {
                throw Malformed(description: "location id \(location.id) is zero or repeated")
            }
            locationFrames[location.id] = try frames(of: location)
        }
        var pids = Set<Int32?>()
        for (number, sample) in message.sample.enumerated() {
            guard sample.value.count == types.count else {
                throw Malformed(description: "sample \(number) has \(sample.value.count) values for \(types.count) sample types")
            }
            let values = sample.value.compactMap { UInt64(exactly: $0) }
            guard values.count == types.count else {
                throw Malformed(description: "sample \(number) has a negative value")
            }
            var stack = try rootFrames(sample.label)
            pids.insert(stack.first?.id)
            for id in sample.locationID.reversed() {
                guard let frames = locationFrames[id] else {
                    throw Malformed(description: "sample \(number) refers to location \(id), which the profile does not have")
                }
                stack.append(contentsOf: frames)
            }
            profile.add(stack, values: values)
        }
        if message.period > 0 {
            profile.recording = RecordingInfo(
                frequency: Int((1e9 / Double(message.period)).rounded()),
                startNanoseconds: 0,
                startUnixNanoseconds: UInt64(clamping: message.timeNanos),
                durationNanoseconds: UInt64(clamping: message.durationNanos),
                processCount: pids.count)
        }
        return profile
    }

    /// The process and thread frames a sample's labels name.
    private func rootFrames(_ labels: [Perftools_Profiles_Label]) throws -> [Frame] {
        var numbers: [String: Int64] = [:]
        var texts: [String: String] = [:]
        for label in labels {
            let key = try string(label.key, "a label's key")
            // Both zero is an empty string or the number 0: keep both readings.
            if label.str != 0 || label.num == 0 {
                texts[key] = try string(label.str, "label \(UntrustedText.escaped(key))")
            }
            if label.str == 0 { numbers[key] = label.num }
        }
        func id(_ key: String) -> Int32? { numbers[key].flatMap { Int32(exactly: $0) } }
        var frames: [Frame] = []
        let pid = id(PprofLabel.pid)
        if let name = texts[PprofLabel.processName] ?? pid.map({ _ in "" }) {
            frames.append(Frame(kind: .process, function: name, id: pid))
            let tid = id(PprofLabel.tid)
            if let thread = texts[PprofLabel.threadName] ?? tid.map({ _ in "" }) {
                frames.append(Frame(kind: .thread, function: thread, id: tid))
            }
        }
        return frames
    }

    /// A location's frames, root first: pprof lists inlined functions innermost first.
    private func frames(of location: Perftools_Profiles_Location) throws -> [Frame] {
        var mappingFile: String?
        var buildID: String?
        if location.mappingID != 0 {
            guard let mapping = mappings[location.mappingID] else {
                throw Malformed(description: "location \(location.id) refers to mapping \(location.mappingID), which the profile does not have")
            }
            mappingFile = try string(mapping.filename, "mapping \(mapping.id)'s file")
            let id = try string(mapping.buildID, "mapping \(mapping.id)'s build ID")
            buildID = id.isEmpty ? nil : id
        }
        var frames: [Frame] = []
        for line in location.line.reversed() {
            guard let function = functions[line.functionID] else {
                throw Malformed(description: "location \(location.id) refers to function \(line.functionID), which the profile does not have")
            }
            let name = try string(function.name, "function \(function.id)'s name")
            let systemName = try string(function.systemName, "function \(function.id)'s system name")
            let file = try string(function.filename, "function \(function.id)'s file")
            switch mappingFile {
            case nil:
                frames.append(.python(function: name, file: file.isEmpty ? nil : file,
                                      line: line.line == 0 ? nil : Int(clamping: line.line)))
            case PprofFrameCode.kernelMapping?:
                frames.append(.kernel(symbol: name))
            case PprofFrameCode.pyrographMapping?:
                guard let frame = PprofFrameCode.frame(code: systemName, name: name) else {
                    throw Malformed(description: "function \(function.id) has an unknown pyrograph code \(UntrustedText.escaped(systemName))")
                }
                frames.append(frame)
            case let module?:
                var frame = Frame.native(symbol: name, module: module == PprofFrameCode.unknownModuleMapping ? nil : module,
                                         buildID: buildID)
                if location.address != 0 { frame.offset = location.address }
                frames.append(frame)
            }
        }
        if frames.isEmpty {
            guard let module = mappingFile else {
                throw Malformed(description: "location \(location.id) has neither a mapping nor a function")
            }
            // An address no symbol covers; address 0 is pprof's "none".
            frames.append(Frame(kind: .native, function: "",
                                module: module == PprofFrameCode.unknownModuleMapping ? nil : module,
                                offset: location.address == 0 ? nil : location.address, buildID: buildID))
        }
        return frames
    }
}
