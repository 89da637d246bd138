import ArgumentParser
import Glibc
import Output
import ProcessInspection
import PythonRuntime

struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps",
        abstract: "List the Python processes pyrograph sees, and whether it can read their stacks.",
        discussion: """
            PID is the host's pid, which profiles name; NSPID is the pid the process sees inside its \
            own pid namespace (a container), or - when that is the same.
            """
    )

    func run() throws {
        guard geteuid() == 0 else {
            throw CLIError("pyrograph needs root to read other processes' memory: run it with sudo")
        }
        let processes = PythonProcessScanner.scan(detector: PythonProcessDetector(), excluding: [getpid()])
        var rows = [["PID", "NSPID", "VERSION", "BUILD", "THREADS", "SUPPORTED", "COMMAND"]]
        for process in processes {
            let directory = ProcessDirectory(pid: process.pid)
            let threads = (try? directory.threadIDs().count).map(String.init) ?? "?"
            let supported = process.unsupportedReason.map { "no: \($0)" } ?? "yes"
            // Its pid inside its own pid namespace (a container's), where
            // that differs from the host's.
            let inner = (try? directory.namespacePIDs().last).flatMap { $0 } ?? process.pid
            rows.append([String(process.pid), inner == process.pid ? "-" : String(inner), process.version?.description ?? "?", process.buildDescription,
                         threads, supported, (try? directory.commandLine()) ?? "?"])
        }
        print(Table.render(rows), terminator: "")
        if processes.isEmpty { fputs("no Python processes found\n", stderr) }
    }
}

enum Table {
    /// Left-aligned columns; the last column is not padded. Cells may come
    /// from profiled processes (argv, paths), so control characters are
    /// escaped: a newline in argv must not forge a row.
    static func render(_ rows: [[String]]) -> String {
        let rows = rows.map { $0.map(UntrustedText.escaped) }
        guard let first = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: first.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
