import Aggregation

/// speedscope's file format (`https://www.speedscope.app/file-format-schema.json`):
/// one "sampled" profile per thread (per process when the profile has no
/// thread frames), sharing one frame table that carries Python frames'
/// file and line. With a timeline the samples are in time order, one per
/// sample with its weight; without one, each distinct stack is one sample
/// weighted by its value. Values are the profile's default sample type.
public struct SpeedscopeWriter: ProfileWriter {
    public var name: String

    public init(name: String = "pyrograph") {
        self.name = name
    }

    public func write(_ profile: Profile, to stream: ByteStream) throws {
        let type = profile.defaultSampleType
        let unit = profile.sampleTypes[type].unit == .nanoseconds ? "nanoseconds" : "none"
        var out = ChunkedText(stream)
        try out.append("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",")
        try out.append("\"exporter\":\"pyrograph\",\"name\":\(JSONText.quoted(name)),\"activeProfileIndex\":0,")
        try out.append("\"shared\":{\"frames\":[")
        for (index, frame) in profile.frames.enumerated() {
            var entry = "{\"name\":" + JSONText.quoted(FrameNaming.displayName(frame))
            if frame.kind == .python, let file = frame.file {
                entry += ",\"file\":" + JSONText.quoted(file)
                if let line = frame.line { entry += ",\"line\":\(line)" }
            } else if frame.kind == .native, let module = frame.module {
                entry += ",\"file\":" + JSONText.quoted(module)
            }
            try out.append((index == 0 ? "" : ",") + entry + "}")
        }
        try out.append("]},\"profiles\":[")
        for (index, group) in ThreadSamples(profile, sampleType: type).groups.enumerated() {
            let total = group.samples.reduce(UInt64(0)) { $0 + $1.value }
            try out.append((index == 0 ? "" : ",") + "{\"type\":\"sampled\",\"name\":\(JSONText.quoted(group.name)),"
                + "\"unit\":\"\(unit)\",\"startValue\":0,\"endValue\":\(total),\"samples\":[")
            // Numbers as bytes: a long recording has millions of them.
            for (sampleIndex, sample) in group.samples.enumerated() {
                if sampleIndex > 0 { out.append(byte: UInt8(ascii: ",")) }
                out.append(byte: UInt8(ascii: "["))
                for (position, frame) in sample.frames.enumerated() {
                    if position > 0 { out.append(byte: UInt8(ascii: ",")) }
                    out.append(decimal: UInt64(frame))
                }
                out.append(byte: UInt8(ascii: "]"))
                try out.flushIfFull()
            }
            try out.append("],\"weights\":[")
            for (sampleIndex, sample) in group.samples.enumerated() {
                if sampleIndex > 0 { out.append(byte: UInt8(ascii: ",")) }
                out.append(decimal: sample.value)
                try out.flushIfFull()
            }
            try out.append("]}")
        }
        try out.append("]}\n")
        try out.flush()
    }
}
