import ArgumentParser

@main
struct Pyrograph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pyrograph",
        abstract: "A system-wide sampling profiler for Python, built on eBPF.",
        discussion: """
        pyrograph samples every CPU and records, for each sample, the kernel stack \
        and the native stack of the process that was running, and writes a flame \
        graph. It needs root, a kernel with BTF, and nothing from the profiled \
        programs: no restart, no code change, no pause.

        Start with:
          sudo pyrograph record -d 10 -o flame.svg      whole host, 10 seconds
          sudo pyrograph record -p 1234 -o app.folded   one process, until Ctrl-C
          sudo pyrograph record -o run.svg -- python3 app.py
          sudo pyrograph record -d 10 -o run.pb.gz      pprof, for go tool pprof and others
          pyrograph convert run.pb.gz -o run.svg        any format into any other
        """,
        subcommands: [RecordCommand.self, TopCommand.self, DumpCommand.self, ReportCommand.self, ConvertCommand.self, DiffCommand.self, PsCommand.self],
        defaultSubcommand: nil
    )
}
