/// How `top` ranks its rows: by which figure, and over which window.
public struct TopOrder: Equatable, Sendable {
    public enum Key: String, Sendable, CaseIterable {
        /// Time with the function innermost, highest first.
        case own
        /// Time with the function anywhere on the stack, highest first.
        case total
        /// The function's name, A to Z.
        case name
    }

    public enum Window: String, Sendable {
        case lastInterval = "last interval"
        case sinceStart = "since start"

        public var other: Window { self == .lastInterval ? .sinceStart : .lastInterval }
    }

    public var key: Key
    public var window: Window

    public init(key: Key = .own, window: Window = .lastInterval) {
        self.key = key
        self.window = window
    }
}
