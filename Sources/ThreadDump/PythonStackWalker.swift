import CPyrograph
import CPythonWalker
import ProcessInspection
import PythonRuntime

/// Runs the sampler's own Python walker (`Sources/CPythonWalker`, the BPF
/// code built for the host) over one thread state of a process, from user
/// space, and tells a stack read at one instant from one that tore.
public final class PythonStackWalker {
    /// One walk: the raw frames, innermost first (code object 0 marks an
    /// eval-loop boundary), and the walker's status.
    public struct Walk: Equatable {
        public var frames: [RawFrame]
        public var status: UInt32
    }

    public struct RawFrame: Equatable {
        public var code: UInt64
        public var instruction: Int32
        public var stamp: UInt32
    }

    private let memory: MemoryReader
    private var layout: pyro_python_layout
    private let sample: UnsafeMutablePointer<pyro_sample>

    public init(process: PythonProcess, layout: PythonLayout, memory: MemoryReader) {
        self.memory = memory
        self.layout = process.family?.walkerLayout(process, layout) ?? pyro_python_layout(process, layout)
        sample = UnsafeMutablePointer<pyro_sample>.allocate(capacity: 1)
        sample.initialize(to: pyro_sample())
    }

    deinit { sample.deallocate() }

    /// One walk of the chain from `threadState`.
    public func walk(threadState: UInt64) -> Walk {
        let box = Unmanaged.passRetained(ReaderBox(memory))
        defer { box.release() }
        sample.pointee.kernel_stack_bytes = 0
        sample.pointee.user_stack_bytes = 0
        let count = withUnsafePointer(to: &layout) { layout -> Int in
            var walker = pyro_python_walker(layout: layout, read: { context, destination, size, address in
                let memory = Unmanaged<ReaderBox>.fromOpaque(context!).takeUnretainedValue().memory
                return memory.read(address, into: UnsafeMutableRawBufferPointer(start: destination, count: Int(size))) ? 0 : -14
            }, read_context: box.toOpaque())
            return Int(pyro_python_walk_thread_state(&walker, threadState, sample))
        }
        let frames: [RawFrame] = withUnsafeBytes(of: &sample.pointee.stacks) { raw in
            raw.bindMemory(to: pyro_python_frame.self).prefix(count).map {
                RawFrame(code: $0.code, instruction: $0.instruction, stamp: $0.stamp)
            }
        }
        return Walk(frames: frames, status: sample.pointee.python_status)
    }

    /// Walks until two successive walks see the same chain of code objects
    /// (the innermost frame's instruction may move on between them: the
    /// thread runs, its stack is still the same), at most `attempts` times.
    /// `isPlausible` rejects a walk whose frames cannot be named (a chain
    /// caught while a frame was being pushed or freed).
    public func consistentWalk(threadState: UInt64, attempts: Int,
                               isPlausible: (Walk) -> Bool) -> (walk: Walk, consistent: Bool, reads: Int) {
        var previous = walk(threadState: threadState)
        var reads = 1
        while reads < attempts {
            let next = walk(threadState: threadState)
            reads += 1
            if Self.sameStack(previous, next) && isPlausible(next) {
                return (next, true, reads)
            }
            previous = next
        }
        return (previous, false, reads)
    }

    static func sameStack(_ a: Walk, _ b: Walk) -> Bool {
        guard a.status == b.status, a.frames.count == b.frames.count else { return false }
        for (index, (x, y)) in zip(a.frames, b.frames).enumerated() {
            guard x.code == y.code, x.stamp == y.stamp else { return false }
            // Outer frames wait for a call to return: their instruction
            // cannot move while the chain above them stays the same.
            if index > 0 && x.instruction != y.instruction { return false }
        }
        return true
    }
}

private final class ReaderBox {
    let memory: MemoryReader
    init(_ memory: MemoryReader) { self.memory = memory }
}
