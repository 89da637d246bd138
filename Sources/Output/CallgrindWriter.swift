import Aggregation

/// The callgrind format that KCacheGrind, QCacheGrind and valgrind's
/// `callgrind_annotate` read: per function (a file and a name), self cost
/// per line, and per call site the callee with the calls and inclusive cost
/// below it. One cost column per sample type. File and function names are
/// compressed (`(id) name` the first time, `(id)` after).
///
/// Inclusive cost is counted once per stack even under recursion: a call
/// edge is counted only into the outermost occurrence of its callee in the
/// stack, so the calls into a function add up to its share of the stacks
/// it is in, which is how callgrind_annotate and KCacheGrind compute a
/// called function's inclusive cost. Roots (process frames) are never
/// called, so their self cost plus their calls is theirs.
public struct CallgrindWriter: ProfileWriter {
    public init() {}

    struct Function: Hashable, Comparable {
        var file: String
        var name: String

        static func < (a: Function, b: Function) -> Bool { (a.file, a.name) < (b.file, b.name) }
    }

    struct Call: Hashable, Comparable {
        var line: Int
        var callee: Function
        var calleeLine: Int

        static func < (a: Call, b: Call) -> Bool {
            (a.line, a.callee, a.calleeLine) < (b.line, b.callee, b.calleeLine)
        }
    }

    struct Costs {
        var selfCost: [Int: [UInt64]] = [:]
        var calls: [Call: (count: UInt64, inclusive: [UInt64])] = [:]
    }

    public func write(_ profile: Profile, to stream: ByteStream) throws {
        let functions = profile.frames.map(Self.function)
        let lines = profile.frames.map { $0.kind == .python ? ($0.line ?? 0) : 0 }
        let types = profile.sampleTypes.indices
        let countType = profile.sampleTypes.firstIndex(of: .samples) ?? profile.defaultSampleType
        var costs: [Function: Costs] = [:]
        func add(_ into: inout [UInt64], _ values: [UInt64]) {
            if into.isEmpty { into = Array(repeating: 0, count: values.count) }
            for type in types { into[type] += values[type] }
        }
        for stack in profile.stacks {
            guard let leaf = stack.frames.last else { continue }
            add(&costs[functions[Int(leaf)], default: Costs()].selfCost[lines[Int(leaf)], default: []], stack.values)
            var outermost: [Function: Int] = [:]
            for (depth, frame) in stack.frames.enumerated().reversed() { outermost[functions[Int(frame)]] = depth }
            for depth in 0..<(stack.frames.count - 1) {
                let caller = functions[Int(stack.frames[depth])]
                let callee = stack.frames[depth + 1]
                guard outermost[functions[Int(callee)]] == depth + 1 else { continue }
                let call = Call(line: lines[Int(stack.frames[depth])], callee: functions[Int(callee)],
                                calleeLine: lines[Int(callee)])
                var entry = costs[caller, default: Costs()].calls[call] ?? (0, [])
                entry.count += stack.values[countType]
                add(&entry.inclusive, stack.values)
                costs[caller, default: Costs()].calls[call] = entry
            }
        }

        var out = ChunkedText(stream)
        try out.append("# callgrind format\nversion: 1\ncreator: pyrograph\npositions: line\n")
        try out.append("events: " + profile.sampleTypes.map(Self.eventName).joined(separator: " ") + "\n")
        try out.append("summary: " + profile.totals.map(String.init).joined(separator: " ") + "\n\n")
        var fileIDs: [String: Int] = [:]
        var functionIDs: [Function: Int] = [:]
        func file(_ name: String) -> String {
            if let id = fileIDs[name] { return "(\(id))" }
            fileIDs[name] = fileIDs.count + 1
            return "(\(fileIDs.count)) " + UntrustedText.escaped(name)
        }
        func function(_ function: Function) -> String {
            if let id = functionIDs[function] { return "(\(id))" }
            functionIDs[function] = functionIDs.count + 1
            return "(\(functionIDs.count)) " + UntrustedText.escaped(function.name)
        }
        func cost(_ line: Int, _ values: [UInt64]) -> String {
            "\(line) " + values.map(String.init).joined(separator: " ") + "\n"
        }
        for caller in costs.keys.sorted() {
            let entry = costs[caller]!
            try out.append("fl=" + file(caller.file) + "\nfn=" + function(caller) + "\n")
            for line in entry.selfCost.keys.sorted() {
                try out.append(cost(line, entry.selfCost[line]!))
            }
            for call in entry.calls.keys.sorted() {
                let (count, inclusive) = entry.calls[call]!
                try out.append("cfi=" + file(call.callee.file) + "\ncfn=" + function(call.callee) + "\n")
                try out.append("calls=\(count) \(call.calleeLine)\n" + cost(call.line, inclusive))
            }
            try out.append("\n")
        }
        try out.flush()
    }

    /// Where a frame's function lies and what it is called there: a Python
    /// function by its file and qualname (its lines are positions), native
    /// code by its module and symbol, the rest by their display names.
    static func function(_ frame: Frame) -> Function {
        switch frame.kind {
        case .python:
            return Function(file: frame.file ?? "[python]", name: frame.function)
        case .native:
            return Function(file: frame.module ?? "[unknown]",
                            name: frame.function.isEmpty ? FrameNaming.displayName(frame) : frame.function)
        case .kernel:
            return Function(file: "[kernel.kallsyms]", name: FrameNaming.displayName(frame))
        case .process, .thread:
            return Function(file: "[\(frame.kind)]", name: FrameNaming.displayName(frame))
        case .annotation:
            return Function(file: "[pyrograph]", name: FrameNaming.displayName(frame))
        }
    }

    /// `samples`, `cpu_ns`: event names are single words.
    static func eventName(_ type: SampleType) -> String {
        type.unit == .nanoseconds ? type.name + "_ns" : type.name
    }
}
