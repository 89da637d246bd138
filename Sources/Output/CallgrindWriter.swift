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

    /// A call site, its callee numbered (see `write`).
    struct Call: Hashable {
        var line: Int
        var callee: Int32
        var calleeLine: Int
    }

    struct Costs {
        var selfCost: [Int: [UInt64]] = [:]
        var calls: [Call: (count: UInt64, inclusive: [UInt64])] = [:]

        var isEmpty: Bool { selfCost.isEmpty && calls.isEmpty }
    }

    public func write(_ profile: Profile, to stream: ByteStream) throws {
        // Functions are numbered once per frame: a large profile's stacks are
        // then walked with integers, not by hashing names at every frame.
        var functions: [Function] = []
        var numbers: [Function: Int32] = [:]
        numbers.reserveCapacity(profile.frames.count)
        let frameFunctions: [Int32] = profile.frames.map { frame in
            let function = Self.function(frame)
            if let known = numbers[function] { return known }
            functions.append(function)
            numbers[function] = Int32(functions.count - 1)
            return Int32(functions.count - 1)
        }
        let lines = profile.frames.map { $0.kind == .python ? ($0.line ?? 0) : 0 }
        let types = profile.sampleTypes.indices
        let countType = profile.sampleTypes.firstIndex(of: .samples) ?? profile.defaultSampleType
        // Costs are first added up per frame and per pair of frames, with
        // integers only; then each distinct frame and pair is added into its
        // function's costs. A large profile has millions of call edges but
        // far fewer distinct pairs.
        let typeCount = types.count
        var selfByFrame = [UInt64](repeating: 0, count: profile.frames.count * typeCount)
        var pairs = FramePairCosts(typeCount: typeCount)
        // Per function of the stack at hand, its depth nearest the root.
        var outermost = [Int](repeating: 0, count: functions.count)
        for stack in profile.stacks {
            guard let leaf = stack.frames.last else { continue }
            for type in types { selfByFrame[Int(leaf) * typeCount + type] += stack.values[type] }
            for (depth, frame) in stack.frames.enumerated().reversed() {
                outermost[Int(frameFunctions[Int(frame)])] = depth
            }
            for depth in 0..<(stack.frames.count - 1) {
                let callee = stack.frames[depth + 1]
                guard outermost[Int(frameFunctions[Int(callee)])] == depth + 1 else { continue }
                pairs.add(stack.values, countType: countType, caller: stack.frames[depth], callee: callee)
            }
        }
        var costs = [Costs](repeating: Costs(), count: functions.count)
        for frame in profile.frames.indices {
            let values = selfByFrame[frame * typeCount..<(frame + 1) * typeCount]
            guard values.contains(where: { $0 > 0 }) else { continue }
            var cost = costs[Int(frameFunctions[frame])].selfCost[lines[frame], default: Array(repeating: 0, count: typeCount)]
            for type in types { cost[type] += values[values.startIndex + type] }
            costs[Int(frameFunctions[frame])].selfCost[lines[frame]] = cost
        }
        func tally(_ call: inout (count: UInt64, inclusive: [UInt64]), _ count: UInt64, _ inclusive: ArraySlice<UInt64>) {
            call.count += count
            for type in types { call.inclusive[type] += inclusive[inclusive.startIndex + type] }
        }
        for pair in 0..<pairs.count {
            let (caller, callee, count, inclusive) = pairs[pair]
            let call = Call(line: lines[Int(caller)], callee: frameFunctions[Int(callee)], calleeLine: lines[Int(callee)])
            // In place: a copy of the entry would copy its costs too.
            tally(&costs[Int(frameFunctions[Int(caller)])].calls[call, default: (0, Array(repeating: 0, count: typeCount))],
                  count, inclusive)
        }
        // Written in order of file and name, calls by line, callee and its line.
        let order = functions.indices.sorted { functions[$0] < functions[$1] }
        var rank = [Int](repeating: 0, count: functions.count)
        for (position, number) in order.enumerated() { rank[number] = position }

        var out = ChunkedText(stream)
        try out.append("# callgrind format\nversion: 1\ncreator: pyrograph\npositions: line\n")
        try out.append("events: " + profile.sampleTypes.map(Self.eventName).joined(separator: " ") + "\n")
        try out.append("summary: " + profile.totals.map(String.init).joined(separator: " ") + "\n\n")
        var fileIDs: [String: Int] = [:]
        // By function number; 0 before the function is first written.
        var functionIDs = [Int](repeating: 0, count: functions.count)
        var functionsWritten = 0
        func file(_ name: String) -> String {
            if let id = fileIDs[name] { return "(\(id))" }
            fileIDs[name] = fileIDs.count + 1
            return "(\(fileIDs.count)) " + UntrustedText.escaped(name)
        }
        func function(_ number: Int) -> String {
            if functionIDs[number] > 0 { return "(\(functionIDs[number]))" }
            functionsWritten += 1
            functionIDs[number] = functionsWritten
            return "(\(functionsWritten)) " + UntrustedText.escaped(functions[number].name)
        }
        func cost(_ line: Int, _ values: [UInt64]) -> String {
            "\(line) " + values.map(String.init).joined(separator: " ") + "\n"
        }
        for number in order where !costs[number].isEmpty {
            let entry = costs[number]
            let caller = functions[number]
            try out.append("fl=" + file(caller.file) + "\nfn=" + function(number) + "\n")
            for line in entry.selfCost.keys.sorted() {
                try out.append(cost(line, entry.selfCost[line]!))
            }
            let calls = entry.calls.keys.sorted {
                ($0.line, rank[Int($0.callee)], $0.calleeLine) < ($1.line, rank[Int($1.callee)], $1.calleeLine)
            }
            for call in calls {
                let (count, inclusive) = entry.calls[call]!
                let callee = functions[Int(call.callee)]
                try out.append("cfi=" + file(callee.file) + "\ncfn=" + function(Int(call.callee)) + "\n")
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
