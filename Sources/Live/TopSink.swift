import Recording

/// The live view as a sink of the recording session: counts each interval's
/// samples by stack, folds them into the model once a second, and shows
/// the model on its display; reads keys on every tick (20 times a second).
public final class TopSink: LiveStatusSink {
    private struct Pending {
        var stack: SymbolizedStack
        var samples: UInt64 = 0
        var weight: UInt64 = 0
    }

    private let setup: TopContent.Setup
    private let display: TopDisplay
    private let refreshSeconds: Double
    /// Called for `q` and when the display closes: the session should stop.
    private let onQuit: () -> Void
    private var model = TopModel()
    /// The model and time as they were when the user paused.
    private var frozen: (model: TopModel, elapsed: Double)?
    private var state = TopViewState()
    private var status: LiveStatus?
    /// This interval's samples by stack: a sample costs a dictionary update;
    /// stacks are named into functions once per interval.
    private var pending: [Int: Pending] = [:]
    private var intervalStart = 0.0
    private var quit = false

    public init(setup: TopContent.Setup, display: TopDisplay, refreshSeconds: Double = 1, onQuit: @escaping () -> Void) {
        self.setup = setup
        self.display = display
        self.refreshSeconds = refreshSeconds
        self.onQuit = onQuit
    }

    public func consume(_ sample: SymbolizedSample) {
        pending[sample.stack.id, default: Pending(stack: sample.stack)].samples += 1
        pending[sample.stack.id]!.weight += sample.weightNanoseconds
    }

    public func update(_ status: LiveStatus) {
        self.status = status
    }

    public func tick(elapsedSeconds: Double) {
        guard !quit else { return }
        var redraw = display.needsRedraw()
        for key in display.pressedKeys() {
            let shown = frozen?.model ?? model
            guard state.apply(key, processes: shown.processes) else { return stop() }
            redraw = true
        }
        let intervalEnded = elapsedSeconds - intervalStart >= refreshSeconds
        if intervalEnded { closeInterval(at: elapsedSeconds) }
        if state.paused, frozen == nil { frozen = (model, elapsedSeconds) }
        if !state.paused { frozen = nil }
        if intervalEnded || redraw {
            let shown = frozen ?? (model, elapsedSeconds)
            display.show(TopContent(setup: setup, elapsedSeconds: shown.elapsed, status: status,
                                    model: shown.model, state: state),
                         intervalEnded: intervalEnded && !state.paused)
        }
        if !display.isOpen { stop() }
    }

    private func closeInterval(at elapsed: Double) {
        for entry in pending.values {
            model.add(process: entry.stack.process, thread: entry.stack.thread, frames: entry.stack.frames,
                      samples: entry.samples, weight: entry.weight)
        }
        pending.removeAll(keepingCapacity: true)
        model.closeInterval(seconds: elapsed - intervalStart)
        intervalStart = elapsed
    }

    private func stop() {
        quit = true
        onQuit()
    }
}
