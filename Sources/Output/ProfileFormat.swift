import Aggregation

/// The formats pyrograph writes, by the name `-f` takes, and the one place
/// that maps a name or an output path's extension to a writer.
public enum ProfileFormat: String, CaseIterable, Sendable {
    case svg
    case folded
    case speedscope
    case chrome
    case callgrind
    case pprof

    /// File name endings that select the format, lower case.
    public var fileExtensions: [String] {
        switch self {
        case .svg: return [".svg"]
        case .folded: return [".folded", ".txt", ".collapsed"]
        case .speedscope: return [".speedscope.json"]
        case .chrome: return [".trace.json"]
        case .callgrind: return [".callgrind"]
        case .pprof: return [".pb.gz", ".pprof"]
        }
    }

    /// The format draws samples in time: the recording keeps its timeline.
    public var needsTimeline: Bool {
        switch self {
        case .speedscope, .chrome: return true
        case .svg, .folded, .callgrind, .pprof: return false
        }
    }

    /// The format shows one profile or timeline per thread, or labels each
    /// sample with its thread (pprof): the recording adds thread frames.
    public var showsThreads: Bool { needsTimeline || self == .pprof }

    /// The format an output path's extension names, if it names one.
    public static func inferred(fromPath path: String) -> ProfileFormat? {
        let lowercased = path.lowercased()
        // valgrind's own naming, which KCacheGrind's file dialog looks for.
        if lowercased.split(separator: "/").last?.hasPrefix("callgrind.out.") == true { return .callgrind }
        return allCases.first { format in format.fileExtensions.contains { lowercased.hasSuffix($0) } }
    }

    /// The format asked for by name, else the one the path names, else SVG.
    public static func resolve(named: ProfileFormat?, path: String) -> ProfileFormat {
        named ?? inferred(fromPath: path) ?? .svg
    }

    public func writer(title: String = "pyrograph") -> ProfileWriter {
        switch self {
        case .svg: return FlameGraphWriter(options: .init(title: title))
        case .folded: return FoldedWriter()
        case .speedscope: return SpeedscopeWriter(name: title)
        case .chrome: return ChromeTraceWriter()
        case .callgrind: return CallgrindWriter()
        case .pprof: return PprofWriter()
        }
    }
}
