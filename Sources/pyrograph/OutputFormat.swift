import ArgumentParser

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case svg
    case folded

    /// The format an output path's extension names, if it names one.
    static func inferred(fromPath path: String) -> OutputFormat? {
        let lowercased = path.lowercased()
        if lowercased.hasSuffix(".svg") { return .svg }
        if lowercased.hasSuffix(".folded") || lowercased.hasSuffix(".txt") || lowercased.hasSuffix(".collapsed") {
            return .folded
        }
        return nil
    }
}
