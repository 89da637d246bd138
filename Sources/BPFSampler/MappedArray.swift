/// A BPF array map mapped into this process (BPF_F_MMAPABLE): the loader
/// writes elements in place and the kernel reads them with no copy. The
/// kernel spaces elements `stride` bytes apart, which can exceed their size.
public struct MappedArray<Element> {
    public let base: UnsafeMutableRawPointer
    public let stride: Int
    public let capacity: Int

    public subscript(index: Int) -> Element {
        get {
            precondition(index < capacity)
            return base.load(fromByteOffset: index * stride, as: Element.self)
        }
        nonmutating set {
            precondition(index < capacity)
            base.storeBytes(of: newValue, toByteOffset: index * stride, as: Element.self)
        }
    }
}
