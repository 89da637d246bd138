import ArgumentParser
import Aggregation
import Output

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarize a profile (pprof or folded): the top functions by self and total share, and what optimizing each could win.",
        discussion: """
        For each function: its self share (its own code), its total share (with what it \
        calls) and the ceiling: if it took no time at all, the run would be at most \
        1/(1 - share) times faster. Processes are merged unless --per-process.

        The names options apply to what IN holds: names it was written with \
        shortened, or interpreter frames it was written without, do not come back.
        """
    )

    @Argument(help: ArgumentHelp("A profile: pprof (record -o x.pb.gz) or folded (record -o x.folded), or - for stdin.", valueName: "IN"))
    var input: String

    @OptionGroup(title: "Names") var naming: NamingOptions

    @Flag(name: .customLong("per-process"), help: "One section per process instead of all merged.")
    var perProcess = false

    @Option(name: [.customShort("n"), .long], help: ArgumentHelp("Functions per table.", valueName: "N"))
    var top: Int = 15

    func validate() throws {
        guard top >= 1 else { throw ValidationError("-n \(top): at least one function") }
    }

    func run() throws {
        let profile = try ProfileInput.read(input)
        let stdout = try OutputFile(path: "-")
        try ReportWriter(perProcess: perProcess, limit: top).write(naming.view.apply(to: profile), to: stdout)
        try stdout.commit()
    }
}
