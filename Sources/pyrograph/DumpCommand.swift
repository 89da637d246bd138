import ArgumentParser
import Glibc
import PythonRuntime
import ThreadDump

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print the Python stack of every thread of Python processes, at this instant.",
        discussion: """
        For each thread: its tid, its OS name and the name `threading` gave it, and \
        its Python stack innermost first, idle threads included. The process is not \
        stopped: a thread that runs while its stack is read is read again until two \
        reads agree, and is marked when they never did. --lock stops every thread \
        with ptrace (PTRACE_SEIZE and PTRACE_INTERRUPT, no signal) for the read and \
        always lets go, even if pyrograph is interrupted.

        Without -p, every Python process on the host is dumped; processes whose \
        stacks pyrograph cannot read are named on stderr. With -p, a process that \
        is not a readable Python process is an error (exit status 1).

        Examples:
          sudo pyrograph dump -p 1234
          sudo pyrograph dump --json > threads.json
          sudo pyrograph dump -p 1234 --native --lock
        """
    )

    @Option(name: .customShort("p"), help: ArgumentHelp("A process to dump (repeat for several); default: every Python process.",
                                                        valueName: "PID"))
    var pids: [Int32] = []

    @Flag(help: "Print one JSON document (see the README) instead of text.")
    var json = false

    @Flag(help: """
        Add each thread's kernel stack (/proc/PID/task/TID/stack) and its native frames: \
        with --lock, from its registers along the frame-pointer chain; without, only the \
        user pc of a thread blocked in a system call.
        """)
    var native = false

    @Flag(help: "Stop the process with ptrace while reading it: every stack is then from one instant.")
    var lock = false

    func validate() throws {
        for pid in pids where pid <= 0 {
            throw ValidationError("-p takes a process id greater than 0, not \(pid)")
        }
    }

    func run() throws {
        guard geteuid() == 0 else {
            throw CLIError("pyrograph needs root to read other processes' memory: run it with sudo")
        }
        let dumper = ProcessDumper(options: ProcessDumper.Options(native: native, lock: lock))
        var snapshots: [ProcessSnapshot] = []
        var failures: [DumpError] = []
        if pids.isEmpty {
            let processes = PythonProcessScanner.scan(detector: PythonProcessDetector(), excluding: [getpid()])
            for process in processes {
                do {
                    guard process.isSupported else {
                        throw DumpError.unsupported(pid: process.pid, version: process.version?.description,
                                                    reason: process.unsupportedReason ?? "no layout")
                    }
                    snapshots.append(try dumper.dump(process))
                } catch let error as DumpError {
                    failures.append(error)
                }
            }
            if processes.isEmpty { fputs("no Python processes found\n", stderr) }
        } else {
            for pid in pids {
                do {
                    snapshots.append(try dumper.dump(pid: pid))
                } catch let error as DumpError {
                    failures.append(error)
                }
            }
        }
        if json {
            print(try DumpJSONWriter.text(processes: snapshots, failures: failures), terminator: "")
        } else {
            print(snapshots.map(DumpTextWriter.text).joined(separator: "\n"), terminator: "")
        }
        for failure in failures { fputs("pyrograph dump: \(failure)\n", stderr) }
        // Only processes asked for by name make a failure of the command.
        if !pids.isEmpty && !failures.isEmpty { throw ExitCode(1) }
    }
}
