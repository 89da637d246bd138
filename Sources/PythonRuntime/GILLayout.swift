/// Where a CPython version keeps its GIL (`struct _gil_runtime_state`) and
/// the two fields that say who holds it: `locked`, an int, and
/// `last_holder`, the `PyThreadState *` that took it last. A thread holds
/// the GIL when it is locked and its last holder is that thread's state.
/// 2.7 and 3.6 keep no such struct pyrograph can reach (2.7's lock is a
/// bare semaphore; 3.6's fields are separate statics): there the current
/// thread state stands for the holder.
public struct GILLayout: Equatable, Sendable {
    public enum Place: Equatable, Sendable {
        /// 3.7 to 3.11: one GIL, inside `_PyRuntime` at this offset.
        case runtime(offset: Int)
        /// 3.12+: each interpreter points to its GIL (`interp->ceval.gil`)
        /// at this offset of `PyInterpreterState`.
        case interpreterPointer(offset: Int)
        /// 2.7 and 3.6: the exported `_PyThreadState_Current`, which the
        /// interpreter sets right after taking the GIL and clears right
        /// before dropping it, so it is the holder's state, or NULL.
        case currentThreadState
    }

    public var place: Place
    /// nil where the holder field alone says the GIL is held (`.currentThreadState`).
    public var locked: Int?
    public var lastHolder: Int
    /// Bytes of the struct, which hold its mutex and condition variables:
    /// a thread asleep on a futex inside them waits for the GIL.
    public var size: Int

    /// The same on every version from 3.7 to 3.13 (checked against the
    /// headers in PythonLayoutTableTests); `_Py_DebugOffsets` give no size.
    public static let structSize = 208

    /// 2.7 and 3.6: the holder is the pointer itself, the only thing read.
    public static let currentThreadState = GILLayout(place: .currentThreadState, locked: nil, lastHolder: 0, size: 8)

    public init(place: Place, locked: Int? = 16, lastHolder: Int = 8, size: Int = GILLayout.structSize) {
        self.place = place
        self.locked = locked
        self.lastHolder = lastHolder
        self.size = size
    }
}
