import ArgumentParser
import CPyrograph
import Glibc
import Live
import Recording

struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Show the functions using the CPU now, live, refreshed every second.",
        discussion: """
        A full-screen view of every Python process on the host (or of the processes \
        given): each line is a function of one process, with its share of all the \
        samples in the last second and since the start: OWN% with the function \
        innermost, TOT% with it anywhere on the stack. Python stacks are ranked by \
        their Python functions; processes without Python by native and kernel \
        functions. THREAD is the thread that ran the function most (+N: in N more).

        Keys: o, t, n sort by own share, total share or name; w switches the window \
        the sort uses (last interval or since start); p shows one process at a time \
        (again for the next), a all of them; space pauses the display (sampling \
        goes on); q or Ctrl-C quits.

        With stdout not a terminal (a pipe, a file), it prints a plain snapshot of \
        the top \(TopSnapshotText.rowLimit) functions every second instead, until \
        stopped.

        Examples:
          sudo pyrograph top
          sudo pyrograph top -p 1234 --clock wall
          sudo pyrograph top | tee top.log
        """
    )

    @OptionGroup var target: TargetOptions

    @Option(help: ArgumentHelp("cpu: where threads run. wall: also the time threads wait off CPU, "
                               + "counted to the function that waits (its own share).",
                               valueName: "cpu|wall"))
    var clock: RecordingSession.Clock = .cpu

    func run() throws {
        guard geteuid() == 0 else {
            throw CLIError("pyrograph needs root to load BPF programs and read other processes: run it with sudo")
        }
        try target.checkTargetsExist()

        let (priority, priorityRefusal) = try target.applyPriority()
        if let priorityRefusal { fputs("pyrograph: priority not raised: \(priorityRefusal)\n", stderr) }
        var options = RecordingSession.Options()
        options.commandNice = priority.original
        options.frequency = UInt64(target.frequency)
        options.pids = target.pids
        options.command = target.command
        options.allProcesses = target.all
        options.clock = clock
        // The model keeps what it shows by value: past the budget the
        // session's stacks can simply go, and a top of days stays small.
        options.retiresStacks = true
        let setup = TopContent.Setup(scope: target.scopeDescription, frequency: target.frequency, clock: clock)
        let interactive = Terminal.isTerminal(STDOUT_FILENO)
        if !interactive {
            // On a terminal the screen itself says so.
            options.onStart = { _ in
                fputs("pyrograph: top of \(setup.scope) at \(setup.frequency) Hz; a snapshot every second; Ctrl-C to stop\n",
                      stderr)
            }
        }
        let session = RecordingSession(options: options)

        let terminal = interactive ? Terminal() : nil
        // Restored on every way out: q, Ctrl-C or another stop signal (the
        // session returns), and an error thrown from the session.
        defer { terminal?.restore() }
        let display: TopDisplay = terminal.map { TerminalTopDisplay(terminal: $0) } ?? PlainTopDisplay()
        session.add(TopSink(setup: setup, display: display, onQuit: { pyro_request_stop() }))
        terminal?.enter()
        let report = try session.run()
        session.releaseStartProbes()
        terminal?.restore()
        if report.stats.lost > 0 {
            fputs("pyrograph: \(report.stats.lost) samples lost (the reader fell behind; try a lower -F)\n", stderr)
        }
        if let status = report.commandExitStatus, status != 0 {
            throw ExitCode(status)
        }
    }
}
