import Aggregation

/// pprof's format: gzipped `profile.proto`, as `go tool pprof`, Pyroscope,
/// Parca and Cloud Profiler read it. The one format that keeps the whole
/// model (frames typed, sample types with units, period, labels), so
/// `PprofReader` reads back what this wrote.
public struct PprofWriter: ProfileWriter {
    public init() {}

    public func write(_ profile: Profile, to stream: ByteStream) throws {
        try Gzip.compress(Self.encoded(profile)).withUnsafeBytes { try stream.write($0) }
    }

    /// The protobuf message, uncompressed.
    public static func encoded(_ profile: Profile) -> [UInt8] {
        PprofEncoder.encoded(profile)
    }
}
