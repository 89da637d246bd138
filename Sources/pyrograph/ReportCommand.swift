import ArgumentParser
import Foundation
import Aggregation
import Output

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarize a folded profile: the top functions by self and total share, and what optimizing each could win.",
        discussion: """
        For each function: its self share (its own code), its total share (with what it \
        calls) and the ceiling: if it took no time at all, the run would be at most \
        1/(1 - share) times faster. Processes are merged unless --per-process.

        The names options apply to what IN holds: names it was written with \
        shortened, or interpreter frames it was written without, do not come back.
        """
    )

    @Argument(help: ArgumentHelp("A folded profile (record -o x.folded), or - for stdin.", valueName: "IN"))
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
        let data: Data
        if input == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: input) else {
                throw CLIError("cannot read \(input): no such file, or not readable")
            }
            data = contents
        }
        let profile: Profile
        do {
            profile = try FoldedReader.read(String(decoding: data, as: UTF8.self))
        } catch {
            throw CLIError("\(input): \(error)")
        }
        let stdout = try OutputFile(path: "-")
        try ReportWriter(perProcess: perProcess, limit: top).write(naming.view.apply(to: profile), to: stdout)
        try stdout.commit()
    }
}
