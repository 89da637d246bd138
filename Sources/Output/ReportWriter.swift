import Aggregation

/// A text summary for the terminal, like `go tool pprof -top`: the
/// functions with the most self time and the most total time (a function's
/// lines merged; counted once per stack under recursion), with their
/// shares and the ceiling of what optimizing each could win: if it took no
/// time at all, the run would be at most 1 / (1 - share) times faster.
/// Merged over processes, or one section per process.
public struct ReportWriter: ProfileWriter {
    public var perProcess: Bool
    public var limit: Int

    public init(perProcess: Bool = false, limit: Int = 15) {
        self.perProcess = perProcess
        self.limit = limit
    }

    struct Function: Hashable {
        var kind: Frame.Kind
        var name: String
        var place: String?
    }

    public func write(_ profile: Profile, to stream: ByteStream) throws {
        let type = profile.defaultSampleType
        var out = ChunkedText(stream)
        let functions = profile.frames.map(Self.function)
        var sections: [(title: String, stacks: [Profile.Stack])] = []
        if perProcess {
            var byProcess: [Int32: [Profile.Stack]] = [:]
            for stack in profile.stacks { byProcess[stack.frames.first ?? -1, default: []].append(stack) }
            sections = byProcess.map { (FrameNaming.displayName(profile.frames[Int($0.key)]), $0.value) }
                .sorted { a, b in
                    let (ta, tb) = (a.stacks.reduce(0) { $0 + $1.values[type] }, b.stacks.reduce(0) { $0 + $1.values[type] })
                    return ta != tb ? ta > tb : a.title < b.title
                }
        } else {
            sections = [("all processes", profile.stacks)]
        }
        let unit = profile.sampleTypes[type]
        for section in sections {
            var selfCost: [Function: UInt64] = [:]
            var totalCost: [Function: UInt64] = [:]
            var total: UInt64 = 0
            for stack in section.stacks {
                let value = stack.values[type]
                total += value
                let kept = stack.frames.filter { ![.process, .thread].contains(profile.frames[Int($0)].kind) }
                if let leaf = kept.last { selfCost[functions[Int(leaf)], default: 0] += value }
                for function in Set(kept.map { functions[Int($0)] }) { totalCost[function, default: 0] += value }
            }
            let amount = unit.unit == .nanoseconds
                ? DecimalText.tenths(Double(total) / 1e9) + " s of \(unit.name)" : "\(total) \(unit.name)"
            try out.append("\(UntrustedText.escaped(section.title)): \(amount)\n")
            for (heading, costs) in [("self", selfCost), ("total", totalCost)] {
                try out.append("\n  top functions by \(heading) share\n")
                try out.append("    self%  total%  ceiling  function\n")
                let ranked = costs.sorted { $0.value != $1.value ? $0.value > $1.value : Self.label($0.key) < Self.label($1.key) }
                for (function, cost) in ranked.prefix(limit) {
                    let selfShare = Double(selfCost[function] ?? 0) / Double(max(total, 1))
                    let totalShare = Double(totalCost[function] ?? 0) / Double(max(total, 1))
                    let share = Double(cost) / Double(max(total, 1))
                    try out.append("   " + Self.percent(selfShare) + "  " + Self.percent(totalShare) + "  "
                        + Self.ceiling(share) + "  " + Self.label(function) + "\n")
                }
            }
            try out.append("\n")
        }
        try out.append("ceiling: if the function took no time at all (its own code in the self table, the whole call "
            + "in the total table), the run would be at most 1/(1 - share) times faster.\n")
        try out.flush()
    }

    /// A frame's function: Python by qualname and file, lines merged;
    /// others by their display name.
    static func function(_ frame: Frame) -> Function {
        switch frame.kind {
        case .python: return Function(kind: .python, name: frame.function, place: frame.file)
        default: return Function(kind: frame.kind, name: FrameNaming.displayName(frame), place: nil)
        }
    }

    static func label(_ function: Function) -> String {
        UntrustedText.escaped(function.place.map { "\(function.name) (\($0))" } ?? function.name)
    }

    /// "  42.0%", right-aligned in 6.
    static func percent(_ share: Double) -> String {
        let text = DecimalText.tenths(share * 100) + "%"
        return String(repeating: " ", count: max(0, 6 - text.count)) + text
    }

    /// "  1.72x", or "    inf" for a share of 100%.
    static func ceiling(_ share: Double) -> String {
        let text: String
        if share >= 0.9995 {
            text = "inf"
        } else {
            let hundredths = Int((100 / (1 - share)).rounded())
            text = "\(hundredths / 100)." + (hundredths % 100 < 10 ? "0" : "") + "\(hundredths % 100)x"
        }
        return String(repeating: " ", count: max(0, 7 - text.count)) + text
    }
}
