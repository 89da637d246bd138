import Recording

/// Everything one refresh of `top` shows, whichever display shows it.
public struct TopContent: Sendable {
    /// What is recorded, fixed for the run.
    public struct Setup: Sendable {
        /// In words: "every Python process on the host", "pid 12, 34".
        public var scope: String
        public var frequency: Int
        public var clock: RecordingSession.Clock

        public init(scope: String, frequency: Int, clock: RecordingSession.Clock) {
            self.scope = scope
            self.frequency = frequency
            self.clock = clock
        }
    }

    public var setup: Setup
    public var elapsedSeconds: Double
    public var status: LiveStatus?
    /// The last interval: its sampling rate and the processes in it.
    public var samplesPerSecond: Double
    public var activeProcesses: Int
    public var state: TopViewState
    public var rows: [TopRow]

    public init(setup: Setup, elapsedSeconds: Double, status: LiveStatus?, samplesPerSecond: Double,
                activeProcesses: Int, state: TopViewState, rows: [TopRow]) {
        self.setup = setup
        self.elapsedSeconds = elapsedSeconds
        self.status = status
        self.samplesPerSecond = samplesPerSecond
        self.activeProcesses = activeProcesses
        self.state = state
        self.rows = rows
    }

    public init(setup: Setup, elapsedSeconds: Double, status: LiveStatus?, model: TopModel, state: TopViewState) {
        self.init(setup: setup, elapsedSeconds: elapsedSeconds, status: status,
                  samplesPerSecond: model.lastInterval.samplesPerSecond,
                  activeProcesses: model.lastInterval.processes, state: state,
                  rows: model.rows(order: state.order, pid: state.process?.pid))
    }
}
