/// A frame pyrograph adds to a stack to say something about it: why it is
/// cut short, or that a frame could not be named. Typed, so accounting
/// never compares display text; the writers say it in words.
public enum Annotation: Hashable, Sendable {
    /// Why the native (CFI or frame-pointer) walk of the user stack ended
    /// before the outermost frame.
    public enum NativeStop: Hashable, Sendable {
        case pcOutsideKnownMappings
        case noCFIAndNoFramePointer
        case stackUnreadable
        case deeperThan(frames: Int)
        case unsupportedCFIRule
        /// The process had no unwind table (not read yet, or none could be
        /// made) and its frame-pointer walk cannot be trusted past the leaf:
        /// the native frames between the process and its Python frames are
        /// missing.
        case noUnwindTable
    }

    /// Where a Python frame chain stopped making sense, so the walk ended
    /// there instead of reading garbage up to its limit.
    public enum PythonChainBreak: Hashable, Sendable {
        /// A frame leads back to a frame already walked.
        case cycle
        /// A frame's code is not a code object.
        case notACodeObject
        /// A frame pointer no interpreter could hold (misaligned).
        case misalignedFrame
    }

    /// What an off-CPU thread waited in, from its state as it left the CPU.
    public enum OffCPUWait: Hashable, Sendable {
        /// An interruptible wait: a sleep, a poll, a lock, a socket or pipe read.
        case sleeping
        /// An uninterruptible wait: disk I/O, a page fault, a kernel lock.
        case blockedOnIO
        /// Still runnable: preempted, or it yielded.
        case preempted
    }

    case nativeUnwindStopped(NativeStop)
    /// The stack is an interval off CPU; the innermost frame says why.
    case offCPU(OffCPUWait)
    /// The thread waits for the GIL (`--gil`): under the Python frame that
    /// asked for it.
    case waitingForGIL
    /// The kernel could not capture the user stack at all.
    case userStackUnavailable
    /// A Python frame whose code object could not be read.
    case pythonFrameUnreadable
    /// The Python walk hit the walker's frame limit.
    case pythonStackTruncated(frames: Int)
    /// The Python walk met unreadable interpreter memory.
    case pythonStackReadFault
    /// The Python frame chain stopped making sense here; frames past this
    /// point were garbage and are not shown.
    case pythonChainBroken(PythonChainBreak)
    /// The process runs a Python pyrograph cannot walk: "python 3.16.0: no stack layout".
    case pythonStacksUnavailable(String)
    /// The recording already held as many distinct stacks as it may: this
    /// sample's stack is counted here, without its frames.
    case stackTableFull

    /// The annotation says a Python frame, or part of the Python stack, is
    /// missing.
    public var marksMissingPython: Bool {
        switch self {
        case .pythonFrameUnreadable, .pythonStackTruncated, .pythonStackReadFault, .pythonChainBroken,
             .pythonStacksUnavailable: return true
        case .nativeUnwindStopped, .userStackUnavailable, .stackTableFull, .offCPU, .waitingForGIL: return false
        }
    }
}
