import Aggregation

/// What pprof has no field for, kept in a form pyrograph's reader takes
/// back exactly.
///
/// Frames that are not code (annotations, and process or thread frames
/// anywhere but at a stack's root, where they become labels) are written
/// as functions of one pseudo-mapping, `[pyrograph]`, with the display
/// text as the name viewers show and a code in the function's system
/// name. No Python frame has a mapping, so no name from a profiled
/// process can pass for one of these.
enum PprofFrameCode {
    /// The pseudo-mappings' file names.
    static let pyrographMapping = "[pyrograph]"
    static let kernelMapping = "[kernel.kallsyms]"
    /// A native frame whose module is not known.
    static let unknownModuleMapping = "[unknown]"

    static func code(for frame: Frame) -> String {
        switch frame.kind {
        case .process: return "process" + (frame.id.map { "/\($0)" } ?? "")
        case .thread: return "thread" + (frame.id.map { "/\($0)" } ?? "")
        case .annotation:
            guard let annotation = frame.annotation else { return "text" }
            return "annotation/" + code(for: annotation)
        case .python, .native, .kernel:
            preconditionFailure("code frames are written as themselves")
        }
    }

    /// The frame a code and a function name stand for; nil for a code
    /// pyrograph does not write.
    static func frame(code: String, name: String) -> Frame? {
        let parts = code.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let rest = parts.count > 1 ? String(parts[1]) : nil
        switch parts[0] {
        case "process", "thread":
            var id: Int32?
            if let rest {
                guard let number = Int32(rest) else { return nil }
                id = number
            }
            return Frame(kind: parts[0] == "process" ? .process : .thread, function: name, id: id)
        case "annotation":
            return rest.flatMap(annotation(code:)).map(Frame.annotation)
        case "text":
            // An annotation read from folded text, known only by its words.
            var text = Substring(name)
            if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
            return Frame(kind: .annotation, function: String(text))
        default:
            return nil
        }
    }

    static func code(for annotation: Annotation) -> String {
        switch annotation {
        case let .nativeUnwindStopped(reason):
            switch reason {
            case .pcOutsideKnownMappings: return "native-unwind-stopped/pc-outside-known-mappings"
            case .noCFIAndNoFramePointer: return "native-unwind-stopped/no-cfi-and-no-frame-pointer"
            case .stackUnreadable: return "native-unwind-stopped/stack-unreadable"
            case let .deeperThan(frames): return "native-unwind-stopped/deeper-than/\(frames)"
            case .unsupportedCFIRule: return "native-unwind-stopped/unsupported-cfi-rule"
            case .noUnwindTable: return "native-unwind-stopped/no-unwind-table"
            }
        case let .offCPU(wait):
            switch wait {
            case .sleeping: return "off-cpu/sleeping"
            case .blockedOnIO: return "off-cpu/blocked-on-io"
            case .preempted: return "off-cpu/preempted"
            }
        case .userStackUnavailable: return "user-stack-unavailable"
        case .pythonFrameUnreadable: return "python-frame-unreadable"
        case let .pythonStackTruncated(frames): return "python-stack-truncated/\(frames)"
        case .pythonStackReadFault: return "python-stack-read-fault"
        case let .pythonChainBroken(why):
            switch why {
            case .cycle: return "python-chain-broken/cycle"
            case .notACodeObject: return "python-chain-broken/not-a-code-object"
            case .misalignedFrame: return "python-chain-broken/misaligned-frame"
            }
        case let .pythonStacksUnavailable(reason): return "python-stacks-unavailable/" + reason
        case .stackTableFull: return "stack-table-full"
        case .waitingForGIL: return "waiting-for-the-gil"
        }
    }

    static func annotation(code: String) -> Annotation? {
        let parts = code.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let rest = parts.count > 1 ? String(parts[1]) : nil
        switch (parts[0], rest) {
        case ("native-unwind-stopped", "pc-outside-known-mappings"): return .nativeUnwindStopped(.pcOutsideKnownMappings)
        case ("native-unwind-stopped", "no-cfi-and-no-frame-pointer"): return .nativeUnwindStopped(.noCFIAndNoFramePointer)
        case ("native-unwind-stopped", "stack-unreadable"): return .nativeUnwindStopped(.stackUnreadable)
        case ("native-unwind-stopped", "unsupported-cfi-rule"): return .nativeUnwindStopped(.unsupportedCFIRule)
        case ("native-unwind-stopped", "no-unwind-table"): return .nativeUnwindStopped(.noUnwindTable)
        case let ("native-unwind-stopped", detail?) where detail.hasPrefix("deeper-than/"):
            return Int(detail.dropFirst("deeper-than/".count)).map { .nativeUnwindStopped(.deeperThan(frames: $0)) }
        case ("off-cpu", "sleeping"): return .offCPU(.sleeping)
        case ("off-cpu", "blocked-on-io"): return .offCPU(.blockedOnIO)
        case ("off-cpu", "preempted"): return .offCPU(.preempted)
        case ("user-stack-unavailable", nil): return .userStackUnavailable
        case ("python-frame-unreadable", nil): return .pythonFrameUnreadable
        case let ("python-stack-truncated", frames?): return Int(frames).map { .pythonStackTruncated(frames: $0) }
        case ("python-stack-read-fault", nil): return .pythonStackReadFault
        case ("python-chain-broken", "cycle"): return .pythonChainBroken(.cycle)
        case ("python-chain-broken", "not-a-code-object"): return .pythonChainBroken(.notACodeObject)
        case ("python-chain-broken", "misaligned-frame"): return .pythonChainBroken(.misalignedFrame)
        case let ("python-stacks-unavailable", reason?): return .pythonStacksUnavailable(reason)
        case ("stack-table-full", nil): return .stackTableFull
        case ("waiting-for-the-gil", nil): return .waitingForGIL
        default: return nil
        }
    }
}
