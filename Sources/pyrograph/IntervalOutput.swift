import Aggregation
import Glibc
import Output
import Recording

/// `record --interval`: one profile per window, each in the file that the
/// `-o` pattern names for the window's start (strftime, local time). A
/// window that cannot be written is reported and the recording goes on.
final class IntervalOutput {
    let pattern: String
    let format: ProfileFormat
    /// The names the user asked for (NamingOptions): the windowed sink
    /// builds each window's profile with them.
    let view: ProfileView
    private(set) var written: [String] = []
    private(set) var failed = 0

    /// Refuses a pattern that would give two consecutive windows one name.
    init(pattern: String, format: ProfileFormat, view: ProfileView, intervalSeconds: Double) throws {
        self.pattern = pattern
        self.format = format
        self.view = view
        guard pattern.contains("%") else {
            throw CLIError("--interval writes one profile per window: -o needs a strftime pattern that names each "
                + "window apart, such as 'profiles/profile-%Y%m%dT%H%M%S.\(format.fileExtensions[0].dropFirst())'")
        }
        // A day of windows from now, and of windows that cross a midnight.
        let now = time(nil)
        for origin in [now, now - now % 86_400 + 86_400 - 3_600] {
            let steps = min(Int(86_400 / intervalSeconds) + 1, 10_000)
            var previous = IntervalOutput.format(pattern, Double(origin))
            for step in 1...steps {
                let next = IntervalOutput.format(pattern, Double(origin) + Double(step) * intervalSeconds)
                if next == previous {
                    throw CLIError("-o \(pattern): two windows \(DecimalText.tenths(intervalSeconds)) s apart would "
                        + "both be written to \(next); add finer fields (%H%M%S) to the pattern")
                }
                previous = next
            }
        }
    }

    /// The file of the window starting at this time.
    func path(startUnixNanoseconds: UInt64) -> String {
        IntervalOutput.format(pattern, Double(startUnixNanoseconds) / 1e9)
    }

    /// Before sampling: the first window's file can be created.
    func checkWritable(startingAt unixSeconds: Double) throws {
        _ = try OutputFile(path: IntervalOutput.format(pattern, unixSeconds))
    }

    func write(_ window: WindowedProfileSink.Window) {
        let path = path(startUnixNanoseconds: window.startUnixNanoseconds)
        do {
            let file = try OutputFile(path: path)
            try format.writer().write(window.profile, to: file)
            try file.commit()
            written.append(path)
            fputs("pyrograph: wrote \(path) (\(window.profile.totalSamples) samples)\n", stderr)
        } catch {
            failed += 1
            fputs("pyrograph: window \(window.index + 1) not written: \(error); recording goes on\n", stderr)
        }
    }

    static func format(_ pattern: String, _ unixSeconds: Double) -> String {
        var seconds = time_t(unixSeconds.rounded(.down))
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
