import Aggregation

/// Writes a whole profile in one format. Every format is one type
/// conforming to this, registered in `ProfileFormat`.
public protocol ProfileWriter {
    func write(_ profile: Profile, to stream: ByteStream) throws
}

extension ProfileWriter {
    /// The profile as text, for tests and small outputs.
    public func rendered(_ profile: Profile) -> String {
        let memory = MemoryStream()
        try? write(profile, to: memory)
        return memory.text
    }
}
