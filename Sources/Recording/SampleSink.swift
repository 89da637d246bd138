import Aggregation

/// Receives every symbolized sample of a recording session as it arrives:
/// the aggregator that becomes the profile today; a live view, a windowed
/// flusher or a timeline tomorrow. Called on the session's thread.
public protocol SampleSink: AnyObject {
    func consume(_ sample: SymbolizedSample)
    /// Called about every 50 ms while recording, with the seconds since
    /// sampling began: where a live view redraws or a window is flushed.
    func tick(elapsedSeconds: Double)
    /// Called once as sampling begins, with the clocks' readings that
    /// `tick`'s seconds count from.
    func recordingStarted(monotonicNanoseconds: UInt64, unixNanoseconds: UInt64)
    /// The session started its stacks and frame table afresh to bound its
    /// memory: no stack a sink holds is renamed or counted again by the
    /// session, so a sink may set them aside (`ProfileSink` writes them to
    /// its spill file). New stacks follow, with new ids.
    func stacksRetired()
}

extension SampleSink {
    public func tick(elapsedSeconds: Double) {}
    public func stacksRetired() {}
    public func recordingStarted(monotonicNanoseconds: UInt64, unixNanoseconds: UInt64) {}
}

/// A distinct raw stack of one thread, named. The session names a stack
/// the first time it sees it and may name it again while a Python frame in
/// it stays unreadable, so sinks that keep stacks read `frames` late.
/// Compact: the process, the thread and the path of frames are ids in the
/// session's frame table.
public final class SymbolizedStack {
    /// Unique within the session.
    public let id: Int
    private let processID: Int32
    private let threadID: Int32
    /// The path of frames in the table.
    private var node: Int32
    private let table: FrameTable
    /// Has Python frames, and none is missing or unreadable.
    public private(set) var hasCompletePython: Bool
    /// Has a `[waiting for the GIL]` frame (`--gil`).
    public private(set) var waitsForGIL: Bool

    init(id: Int, process: Frame, thread: Frame, frames: [Frame], table: FrameTable) {
        self.id = id
        self.table = table
        processID = table.internIdentity(process)
        threadID = table.internIdentity(thread)
        node = table.intern(frames)
        hasCompletePython = frames.isCompletePython
        waitsForGIL = frames.contains { $0.annotation == .waitingForGIL }
    }

    /// The table `frameIDs` index.
    public var frameTable: FrameTable { table }
    public var process: Frame { table[processID] }
    public var thread: Frame { table[threadID] }
    /// Indices into the session's frame table, root first.
    public var frameIDs: [Int32] { table.frameIDs(of: node) }
    /// Appends `frameIDs` to `ids`, without an array of its own.
    public func appendFrameIDs(to ids: inout [Int32]) { table.appendFrameIDs(of: node, to: &ids) }
    /// The path of frames now, as a node of the table.
    var nodeID: Int32 { node }
    /// The process and thread frames' ids in the table.
    public var processFrameID: Int32 { processID }
    public var threadFrameID: Int32 { threadID }
    /// Root first, without the process and thread frames.
    public var frames: [Frame] { frameIDs.map { table[$0] } }

    func rename(_ frames: [Frame]) {
        node = table.intern(frames)
        hasCompletePython = frames.isCompletePython
        waitsForGIL = frames.contains { $0.annotation == .waitingForGIL }
    }
}

/// One sample as sinks see it.
public struct SymbolizedSample {
    public var stack: SymbolizedStack
    /// CLOCK_MONOTONIC, from the kernel.
    public var timestampNanoseconds: UInt64
    public var cpu: UInt32
    /// An on-CPU sample, or an interval off CPU.
    public var origin: SampleOrigin
    /// The time the sample stands for: one sampling period on CPU, the
    /// interval's length off CPU.
    public var weightNanoseconds: UInt64
    /// `--gil`: where the thread stood with the GIL.
    public var gil: GILHolding? = nil
}
