import ArgumentParser
import Foundation
import Aggregation
import Output

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two profiles: a differential flame graph, or the folded difference.",
        discussion: """
        The flame graph is AFTER's, widths from AFTER, each frame coloured by how its share \
        changed since BEFORE: red grew, blue shrank, white unchanged; the colour is full at \
        double or half. Hovering a frame, or searching, shows both values and the change. \
        Frames only in BEFORE have no width in AFTER, so they do not show, but a search \
        counts them.

        Processes are matched by command and threads by name, since ids change between runs. \
        BEFORE is scaled to AFTER's total unless --no-normalize, so a longer recording does \
        not make everything look grown.

        The folded difference (-f folded, or -o x.folded) has one line per stack in either \
        profile: `frame;frame;frame BEFORE AFTER`, BEFORE scaled to AFTER's total and rounded \
        unless --no-normalize, 0 where a profile lacks the stack. flamegraph.pl and inferno \
        draw it as a differential graph too.

          pyrograph diff before.folded after.folded -o diff.svg
          pyrograph diff before.folded after.folded -o diff.folded
          pyrograph diff before.pb.gz after.pb.gz -o diff.svg
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case svg, folded
    }

    @Argument(help: ArgumentHelp("The profile to compare against: pprof (record -o x.pb.gz) or folded stacks, gzipped or not.", valueName: "BEFORE"))
    var before: String

    @Argument(help: ArgumentHelp("The profile to draw, compared with BEFORE.", valueName: "AFTER"))
    var after: String

    @Option(name: [.customShort("o"), .long],
            help: ArgumentHelp("Where to write the difference, or - for stdout.", valueName: "FILE"))
    var output: String

    @Option(name: [.customShort("f"), .long],
            help: ArgumentHelp("svg or folded (default: from FILE's extension, else svg).", valueName: "FORMAT"))
    var format: Format?

    @Flag(name: .customLong("no-normalize"),
          help: "Compare raw values: a frame grows when it has more samples, whatever the totals.")
    var noNormalize = false

    @Flag(help: "Draw the root at the top and callees below it.")
    var icicle = false

    @Option(help: ArgumentHelp("The graph's title.", valueName: "TEXT"))
    var title = "pyrograph diff"

    /// Any profile `ProfileReader` reads (pprof or folded, gzipped or not).
    static func readProfile(_ path: String) throws -> Profile {
        try ProfileInput.read(path)
    }

    var resolvedFormat: Format {
        if let format { return format }
        return ProfileFormat.inferred(fromPath: output) == .folded ? .folded : .svg
    }

    func run() throws {
        let diff: ProfileDiff
        do {
            diff = try ProfileDiff(before: Self.readProfile(before), after: Self.readProfile(after),
                                   normalized: !noNormalize)
        } catch let error as ProfileDiff.IncomparableSampleTypes {
            throw CLIError("cannot compare \(before) with \(after): \(error)")
        }
        guard diff.beforeTotal > 0 else { throw CLIError("\(before): no samples, nothing to compare against") }
        guard diff.afterTotal > 0 else { throw CLIError("\(after): no samples, nothing to draw") }
        let file = try OutputFile(path: output)
        switch resolvedFormat {
        case .svg:
            try DiffFlameGraphWriter(options: .init(title: title, icicle: icicle)).write(diff, to: file)
        case .folded:
            try DiffFoldedWriter().write(diff, to: file)
        }
        try file.commit()
    }
}
