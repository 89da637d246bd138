import Dispatch
import Synchronization

/// Items 0, 1, 2, ... made in order on a thread of their own while the
/// caller works on the ones before: the stop reads set-aside stacks back
/// on a second core (a chunk decoded and its frames shown there) while
/// this one adds the chunk before. At most `ahead` items wait to be taken,
/// so memory holds a few items, not all of them. Without a thread (none
/// could be started), each item is made when it is taken.
///
/// The thread is a `DetachedThread`, which runs at the priority of the
/// thread that starts it. `make` runs on it alone: it may keep state
/// between items, but must not share it with the caller.
final class Prefetch<Item> {
    private struct Shelf {
        var made: [Int: Item] = [:]
        /// Items given back, freed by the thread before it makes the next.
        var spent: [Item] = []
    }

    private let count: Int
    private let make: (Int) -> Item
    private let shelf = Mutex(Shelf())
    private let made = DispatchSemaphore(value: 0)
    private let room: DispatchSemaphore
    private var threaded = false
    private var taken = 0

    init(count: Int, ahead: Int = 1, make: @escaping (Int) -> Item) {
        self.count = count
        self.make = make
        room = DispatchSemaphore(value: max(ahead, 1))
        // The thread holds the prefetch until it has made the last item.
        threaded = count > 1 && DetachedThread.start { [self] in
            var spent: [Item] = []
            for index in 0..<count {
                room.wait()
                // Freed here, outside the lock (see giveBack).
                shelf.withLock { swap(&$0.spent, &spent) }
                spent.removeAll()
                let item = make(index)
                shelf.withLock { $0.made[index] = item }
                made.signal()
            }
        }
    }

    /// The next item, made if it is not yet; every item must be taken, in
    /// order (the thread waits for room until then).
    func next() -> Item {
        precondition(taken < count, "all \(count) items were taken")
        defer { taken += 1 }
        guard threaded else { return make(taken) }
        made.wait()
        let item = shelf.withLock { $0.made.removeValue(forKey: taken)! }
        room.signal()
        return item
    }

    /// An item the caller is done with, to be freed by the thread that
    /// made it: memory is freed into the allocator arena of the thread
    /// that allocated it, under that arena's lock, and the making thread,
    /// allocating in it all the while, waited for that lock.
    func giveBack(_ item: Item) {
        guard threaded else { return }
        shelf.withLock { $0.spent.append(item) }
    }
}
