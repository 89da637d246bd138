import ArgumentParser
import Aggregation
import Output

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a profile from one format into another.",
        discussion: """
        IN is read by its content, whatever its name: pprof (gzipped or not) or folded \
        stacks (gzipped or not). pprof keeps everything pyrograph records but the \
        timeline (typed frames, sample types and units, the sampling period, pid, \
        process, tid and thread labels): keep a recording as .pb.gz and convert it \
        to any other format later. Folded stacks keep one value per stack and frame \
        names only.

        Examples:
          pyrograph convert run.pb.gz -o run.svg
          pyrograph convert run.pb.gz -o - -f folded | grep numpy
          pyrograph convert old.folded -o old.pb.gz
        """
    )

    @Argument(help: ArgumentHelp("The profile to read: pprof or folded, or - for stdin.", valueName: "IN"))
    var input: String

    @Option(name: [.customShort("o"), .long],
            help: ArgumentHelp("Where to write: a file (replaced only once it is complete), a device, a FIFO "
                               + "or pipe, or - for stdout.", valueName: "OUT"))
    var output: String

    @Option(name: [.customShort("f"), .long],
            help: ArgumentHelp("Output format: \(ProfileFormat.allCases.map(\.rawValue).joined(separator: " or ")) "
                + "(default: from OUT's extension, else svg).", valueName: "FORMAT"))
    var format: ProfileFormat?

    func run() throws {
        // All of the input is read and checked before OUT is touched.
        let profile = try ProfileInput.read(input)
        let resolvedFormat = ProfileFormat.resolve(named: format, path: output)
        let file = try OutputFile(path: output)
        try resolvedFormat.writer().write(profile, to: file)
        try file.commit()
    }
}
