/// What one of a profile's values measures, and in which unit, as pprof's
/// `ValueType` does: every stack carries one value per sample type.
public struct SampleType: Hashable, Sendable {
    public enum Unit: String, Hashable, Sendable, CaseIterable {
        case count
        case nanoseconds
    }

    /// `samples`, `cpu`; later `wall`, `off-cpu`.
    public var name: String
    public var unit: Unit

    public init(name: String, unit: Unit) {
        self.name = name
        self.unit = unit
    }

    /// How many samples (records) a stack was seen in.
    public static let samples = SampleType(name: "samples", unit: .count)
    /// On-CPU time: each sample stands for one sampling period.
    public static let cpuTime = SampleType(name: "cpu", unit: .nanoseconds)
    /// Wall-clock time: on-CPU samples and off-CPU intervals alike.
    public static let wallTime = SampleType(name: "wall", unit: .nanoseconds)
}
