import Output

/// `pyrograph dump`'s text, for a person: per process a header, per thread
/// its names and stack innermost first, as py-spy dump prints it. Every
/// name comes from the process and is escaped (`UntrustedText`).
public enum DumpTextWriter {
    public static func text(_ snapshot: ProcessSnapshot) -> String {
        var out = "Process \(snapshot.pid): \(escaped(snapshot.command ?? "?"))\n"
        let how = snapshot.locked ? "stopped with ptrace while read" : "read without stopping it"
        let count = snapshot.threads.count
        out += "Python \(escaped(snapshot.pythonVersion ?? "?")), \(count) thread\(count == 1 ? "" : "s") (\(how))\n"
        for thread in snapshot.threads {
            out += "\n" + header(thread) + "\n"
            for frame in thread.frames {
                let function = escaped(frame.function ?? "[python frame unreadable]")
                let place = frame.file.map { "\(escaped($0)):\(frame.line.map(String.init) ?? "?")" } ?? "?"
                out += "    \(function) (\(place))\n"
            }
            if let native = thread.native {
                out += "  native (\(native.source.rawValue)):\n"
                for frame in native.frames {
                    let symbol = frame.symbol.map(escaped) ?? "0x" + String(frame.address, radix: 16)
                    out += "    \(symbol)" + (frame.module.map { " [\(escaped($0))]" } ?? "") + "\n"
                }
            }
            if let kernel = thread.kernelStack, !kernel.isEmpty {
                out += "  kernel:\n"
                for frame in kernel { out += "    \(escaped(frame))\n" }
            }
        }
        return out
    }

    static func header(_ thread: ThreadSnapshot) -> String {
        var line = "Thread \(thread.tid.map(String.init) ?? "?")"
        if let python = thread.pythonName {
            line += " \"\(escaped(python))\""
            if let os = thread.osName, os != python { line += " (os: \(escaped(os)))" }
        } else if let os = thread.osName {
            line += " \"\(escaped(os))\""
        }
        if let holds = thread.holdsGIL { line += holds ? ", holds the GIL" : "" }
        switch thread.stack.outcome {
        case .consistent, .locked: break
        case .inconsistent:
            line += ": stack kept changing over \(thread.stack.reads) reads; frames may mix two instants"
        case .unreadable: line += ": Python stack unreadable"
        case .truncated: line += ": Python stack truncated at the walker's limit"
        case .noPythonThread: line += ": no Python thread state"
        }
        return line
    }

    private static func escaped(_ text: String) -> String { UntrustedText.escaped(text) }
}
