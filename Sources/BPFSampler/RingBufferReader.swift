import CPyrograph
import Glibc

/// Delivers each record of the BPF ring buffer to a Swift closure. The
/// bytes are only valid during the call.
public final class RingBufferReader {
    public typealias Handler = (UnsafeRawBufferPointer) -> Void

    private final class Box {
        let handler: Handler
        init(_ handler: @escaping Handler) { self.handler = handler }
    }

    private let ringBuffer: OpaquePointer
    private let box: Box

    public init(mapFD: Int32, handler: @escaping Handler) throws {
        box = Box(handler)
        let context = Unmanaged.passUnretained(box).toOpaque()
        let callback: ring_buffer_sample_fn = { context, data, size in
            let box = Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue()
            box.handler(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
        guard let ringBuffer = ring_buffer__new(mapFD, callback, context, nil) else {
            throw SamplerError.attachFailed(what: "the ring buffer", errno: errno, log: Sampler.libbpfLog())
        }
        self.ringBuffer = ringBuffer
    }

    deinit { ring_buffer__free(ringBuffer) }

    /// Waits up to `timeoutMilliseconds` for records and handles them all.
    /// Returns the number handled; an interrupted wait is not an error.
    /// Samples do not wake the reader (see PYRO_RING_WAKEUP_BYTES), so the
    /// buffer is drained after the wait whether or not it was woken.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32) -> Int {
        let woken = ring_buffer__poll(ringBuffer, timeoutMilliseconds)
        return max(Int(woken), 0) + drain()
    }

    /// Handles whatever is already in the buffer without waiting.
    @discardableResult
    public func drain() -> Int {
        let n = ring_buffer__consume(ringBuffer)
        return n < 0 ? 0 : Int(n)
    }
}
