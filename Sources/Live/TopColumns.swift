import Output

/// The text of `top`'s header and rows, shared by the full-screen view and
/// the plain snapshots. Every name from a profiled process goes through
/// `UntrustedText` here: it is the one place text reaches the terminal.
enum TopColumns {
    static let percentWidth = 6
    static let pidWidth = 7
    static let threadWidth = 12

    static let groups = "  last interval   since start"
    static let heading = pad("OWN%", percentWidth) + " " + pad("TOT%", percentWidth) + "  "
        + pad("OWN%", percentWidth) + " " + pad("TOT%", percentWidth) + " " + pad("PID", pidWidth) + " "
        + "THREAD".padding(threadWidth) + " FUNCTION"

    /// Columns before the function's.
    static var fixedWidth: Int { heading.count - "FUNCTION".count }

    /// `functionWidth` nil leaves names whole (plain snapshots); the
    /// thread is cut to its column either way.
    static func row(_ row: TopRow, functionWidth: Int?) -> String {
        let thread = UntrustedText.escaped(row.thread.name) + (row.otherThreads > 0 ? "+\(row.otherThreads)" : "")
        var function = label(row.function, short: functionWidth != nil)
        if let functionWidth { function = cut(function, functionWidth) }
        return percent(row.interval.own) + " " + percent(row.interval.total) + "  "
            + percent(row.sinceStart.own) + " " + percent(row.sinceStart.total) + " "
            + pad("\(row.function.pid)", pidWidth) + " " + cut(thread, threadWidth).padding(threadWidth) + " " + function
    }

    static func title(_ content: TopContent) -> String {
        "pyrograph top: \(content.setup.scope), \(content.setup.frequency) Hz, \(content.setup.clock.rawValue) clock, "
            + "\(DecimalText.tenths(content.elapsedSeconds)) s" + (content.state.paused ? "  [PAUSED]" : "")
    }

    static func status(_ content: TopContent) -> String {
        var parts = ["\(Int(content.samplesPerSecond.rounded())) samples/s"]
        let seen = content.status.map { " (\($0.processesSeen) seen)" } ?? ""
        parts.append("\(content.activeProcesses) process" + (content.activeProcesses == 1 ? "" : "es") + seen)
        if let status = content.status { parts.append("\(status.stats.lost) lost") }
        return parts.joined(separator: "  ")
    }

    static func choices(_ state: TopViewState) -> String {
        let process = state.process.map { UntrustedText.escaped($0.comm) + " (\($0.pid))" } ?? "all"
        return "sort: \(state.order.key.rawValue), \(state.order.window.rawValue)  process: \(process)"
    }

    /// Python: `qualname (file)`, the file's last component when short;
    /// native: `symbol [module]`; kernel: `symbol_[k]`.
    static func label(_ function: TopFunction, short: Bool) -> String {
        let text: String
        switch function.kind {
        case .python:
            let file = function.place.map { short ? lastComponent($0) : $0 }
            text = file.map { "\(function.name) (\($0))" } ?? function.name
        case .kernel:
            text = function.name + "_[k]"
        default:
            let module = function.place.map { short ? lastComponent($0) : $0 }
            if function.name.isEmpty, let module, let offset = function.offset {
                text = "\(module)+0x\(String(offset, radix: 16))"
            } else {
                text = module.map { "\(function.name) [\($0)]" } ?? function.name
            }
        }
        return UntrustedText.escaped(text)
    }

    static func percent(_ share: Double) -> String {
        pad(DecimalText.tenths(share * 100), percentWidth)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// At most `width` characters; a cut name ends in `~`.
    static func cut(_ text: String, _ width: Int) -> String {
        guard text.count > width else { return text }
        guard width > 0 else { return "" }
        return String(text.prefix(width - 1)) + "~"
    }

    static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}

extension String {
    /// Left-aligned in `width` characters.
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
