import Recording

/// Input: one ring-buffer record, as the kernel sends it.
enum RecordFuzz {
    static func run(_ input: UnsafeRawBufferPointer) {
        // A copy the exact size of the input, so reading past it is caught.
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: input.count, alignment: 8)
        defer { copy.deallocate() }
        if input.count > 0 { copy.copyMemory(from: input) }
        if case let .sample(sample) = RingBufferRecord(UnsafeRawBufferPointer(copy)) {
            _ = sample.pythonFrames.filter(\.isEntryMarker).count + sample.kernelStack.count + sample.userStack.count
        }
    }
}
