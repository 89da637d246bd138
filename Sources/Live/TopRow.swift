/// One line of `top`: a function of one process, its shares of all the
/// samples in the last interval and since the start, and the thread it ran
/// in most.
public struct TopRow: Equatable, Sendable {
    public struct Shares: Equatable, Sendable {
        /// Fractions (0...1) of the window's time: with the function
        /// innermost (own), and anywhere on the stack (total).
        public var own: Double
        public var total: Double

        public init(own: Double, total: Double) {
            self.own = own
            self.total = total
        }
    }

    public var function: TopFunction
    public var interval: Shares
    public var sinceStart: Shares
    /// The thread with the most of this function's time since the start.
    public var thread: ThreadName
    /// How many other threads ran it.
    public var otherThreads: Int

    public struct ThreadName: Hashable, Sendable {
        public var name: String
        public var tid: Int32

        public init(name: String, tid: Int32) {
            self.name = name
            self.tid = tid
        }
    }
}
