/// Where a CPython version keeps its GIL (`struct _gil_runtime_state`) and
/// the two fields that say who holds it: `locked`, an int, and
/// `last_holder`, the `PyThreadState *` that took it last. A thread holds
/// the GIL when it is locked and its last holder is that thread's state.
public struct GILLayout: Equatable, Sendable {
    public enum Place: Equatable, Sendable {
        /// 3.7 to 3.11: one GIL, inside `_PyRuntime` at this offset.
        case runtime(offset: Int)
        /// 3.12+: each interpreter points to its GIL (`interp->ceval.gil`)
        /// at this offset of `PyInterpreterState`.
        case interpreterPointer(offset: Int)
    }

    public var place: Place
    public var locked: Int
    public var lastHolder: Int
    /// Bytes of the struct, which hold its mutex and condition variables:
    /// a thread asleep on a futex inside them waits for the GIL.
    public var size: Int

    /// The same on every version from 3.7 to 3.13 (checked against the
    /// headers in PythonLayoutTableTests); `_Py_DebugOffsets` give no size.
    public static let structSize = 208

    public init(place: Place, locked: Int = 16, lastHolder: Int = 8, size: Int = GILLayout.structSize) {
        self.place = place
        self.locked = locked
        self.lastHolder = lastHolder
        self.size = size
    }
}
