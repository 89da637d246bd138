/// One thread of a Python process at the instant `pyrograph dump` read it.
/// Values only: the writers make the text.
public struct ThreadSnapshot: Sendable, Equatable, Codable {
    /// The kernel's thread id; nil for a Python thread state whose OS
    /// thread could not be told (its pthread was unreadable).
    public var tid: Int32?
    /// `/proc/PID/task/TID/comm`, as the process set it.
    public var osName: String?
    /// `threading.Thread.name`, where `threading` knows the thread.
    public var pythonName: String?
    /// The thread's `threading.get_ident()` (its pthread_self()); nil for a
    /// thread that has no Python thread state.
    public var pythonThreadID: UInt64?
    /// Whether the thread held the GIL when it was read (`GILState`); nil
    /// where the version's GIL is not read (free-threaded builds).
    public var holdsGIL: Bool?
    public var stack: PythonStackRead
    /// Innermost first, as `py-spy dump` prints.
    public var frames: [DumpFrame]
    /// `/proc/PID/task/TID/stack`, innermost first; nil when not asked or
    /// not readable.
    public var kernelStack: [String]?
    /// Native frames, innermost first, and how far they could be had.
    public var native: NativeStack?

    public init(tid: Int32?, osName: String?, pythonName: String? = nil, pythonThreadID: UInt64?,
                holdsGIL: Bool? = nil, stack: PythonStackRead, frames: [DumpFrame] = [],
                kernelStack: [String]? = nil, native: NativeStack? = nil) {
        self.tid = tid
        self.osName = osName
        self.pythonName = pythonName
        self.pythonThreadID = pythonThreadID
        self.holdsGIL = holdsGIL
        self.stack = stack
        self.frames = frames
        self.kernelStack = kernelStack
        self.native = native
    }

    /// The name to show: Python's where the program set one, else the OS's.
    public var displayName: String? { pythonName ?? osName }
}

/// One Python frame of a dumped stack.
public struct DumpFrame: Sendable, Equatable, Codable {
    /// `co_qualname` on 3.11+, `co_name` before; nil when the code object
    /// could not be read.
    public var function: String?
    public var file: String?
    public var line: Int?

    public init(function: String?, file: String?, line: Int?) {
        self.function = function
        self.file = file
        self.line = line
    }
}

/// How a thread's Python stack was read.
public struct PythonStackRead: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable {
        /// Two successive reads agreed: this is the stack at one instant.
        case consistent
        /// The stack kept changing under every read (a running thread):
        /// the frames are the last read and may mix two instants.
        case inconsistent
        /// The frame chain could not be read (freed memory, a bad pointer).
        case unreadable
        /// Deeper than the walker follows; the root end is missing.
        case truncated
        /// An OS thread with no Python thread state (a native thread, or
        /// one that has not entered Python yet or has left it).
        case noPythonThread = "no-python-thread"
        /// The process was stopped (`--lock`): one read is one instant.
        case locked
    }

    public var outcome: Outcome
    /// Walks made of this thread's stack.
    public var reads: Int

    public init(_ outcome: Outcome, reads: Int) {
        self.outcome = outcome
        self.reads = reads
    }
}

/// A thread's native frames, as far as they can be had.
public struct NativeStack: Sendable, Equatable, Codable {
    public enum Source: String, Sendable, Codable {
        /// The thread was stopped (`--lock`): its registers, then the
        /// frame-pointer chain (code built without frame pointers ends it
        /// early).
        case registers
        /// The running process's thread was blocked in a system call:
        /// `/proc/PID/task/TID/syscall` gives its user pc only.
        case blockedSystemCall = "blocked-system-call"
        /// The thread was running: no native frame without stopping it.
        case unavailable
    }

    public var source: Source
    public var frames: [NativeFrame]

    public init(source: Source, frames: [NativeFrame]) {
        self.source = source
        self.frames = frames
    }
}

public struct NativeFrame: Sendable, Equatable, Codable {
    public var address: UInt64
    public var symbol: String?
    public var module: String?

    public init(address: UInt64, symbol: String?, module: String?) {
        self.address = address
        self.symbol = symbol
        self.module = module
    }
}

/// Every thread of one process.
public struct ProcessSnapshot: Sendable, Equatable, Codable {
    public var pid: Int32
    public var command: String?
    public var pythonVersion: String?
    /// True when the process was stopped (`--lock`) while it was read.
    public var locked: Bool
    public var threads: [ThreadSnapshot]

    public init(pid: Int32, command: String?, pythonVersion: String?, locked: Bool, threads: [ThreadSnapshot]) {
        self.pid = pid
        self.command = command
        self.pythonVersion = pythonVersion
        self.locked = locked
        self.threads = threads
    }
}
