import Aggregation

/// The display names of frames, part of pyrograph's interface: tests, users
/// and tools that read folded output rely on them.
/// - process: `COMM (PID)`
/// - thread: `THREADNAME (TID)`
/// - kernel: `symbol_[k]`, as flamegraph.pl marks kernel frames
/// - native: `symbol [module]`, or `module+0xOFFSET` when no symbol covers it
/// - python: `qualname (file:line)`, or `qualname (file)` for a frame that
///   stands for all of a function's lines (`--no-lines`)
/// - annotation: `[what it says]`, such as `[python frame unreadable]`
public enum FrameNaming {
    public static func displayName(_ frame: Frame) -> String {
        switch frame.kind {
        case .process, .thread:
            guard let id = frame.id else { return frame.function }
            return "\(frame.function) (\(id))"
        case .kernel:
            return frame.function + "_[k]"
        case .native:
            if frame.function.isEmpty, let module = frame.module, let offset = frame.offset {
                return "\(module)+0x\(String(offset, radix: 16))"
            }
            guard let module = frame.module else { return frame.function }
            return "\(frame.function) [\(module)]"
        case .python:
            guard let file = frame.file else { return frame.function }
            guard let line = frame.line else { return "\(frame.function) (\(file))" }
            return "\(frame.function) (\(file):\(line))"
        case .annotation:
            return "[" + (frame.annotation.map(text) ?? frame.function) + "]"
        }
    }

    public static func text(_ annotation: Annotation) -> String {
        switch annotation {
        case let .nativeUnwindStopped(reason): return "native unwind stopped: " + text(reason)
        case .userStackUnavailable: return "user stack unavailable"
        case .pythonFrameUnreadable: return "python frame unreadable"
        case let .pythonStackTruncated(frames): return "python stack truncated at \(frames) frames"
        case .pythonStackReadFault: return "python stack incomplete: read fault"
        case let .pythonChainBroken(reason): return "python stack cut: " + text(reason)
        case let .pythonStacksUnavailable(reason): return reason
        case .stackTableFull: return "stack table full"
        case let .offCPU(wait): return "off-cpu: " + text(wait)
        case .waitingForGIL: return "waiting for the GIL"
        }
    }

    static func text(_ reason: Annotation.PythonChainBreak) -> String {
        switch reason {
        case .cycle: return "frame chain loops"
        case .notACodeObject: return "frame code is not a code object"
        case .misalignedFrame: return "misaligned frame pointer"
        }
    }

    static func text(_ wait: Annotation.OffCPUWait) -> String {
        switch wait {
        case .sleeping: return "sleeping"
        case .blockedOnIO: return "blocked on I/O"
        case .preempted: return "preempted"
        }
    }

    static func text(_ reason: Annotation.NativeStop) -> String {
        switch reason {
        case .pcOutsideKnownMappings: return "pc outside known mappings"
        case .noCFIAndNoFramePointer: return "no CFI and no frame pointer"
        case .stackUnreadable: return "stack unreadable"
        case let .deeperThan(frames): return "deeper than \(frames) frames"
        case .unsupportedCFIRule: return "unsupported CFI rule"
        case .noUnwindTable: return "no unwind table for the process"
        }
    }
}
