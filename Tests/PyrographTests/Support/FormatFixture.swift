import Foundation
import XCTest
@testable import Aggregation
@testable import Output

/// The fixed profile every writer's golden file is made from: two
/// processes, one with two threads, Python, native, kernel and annotation
/// frames, a recursive stack, hostile names, and a timeline in which the
/// main thread changes stack, goes idle and comes back.
enum FormatFixture {
    static let period: UInt64 = 10_000_000

    static let app = Frame.process(comm: "app", pid: 42)
    static let mainThread = Frame.thread(name: "app", tid: 42)
    static let worker = Frame.thread(name: "worker", tid: 43)
    static let main = Frame.native(symbol: "main", module: "python3.11")
    static let run = Frame.python(function: "run", file: "/srv/app.py", line: 10)
    static let parse = Frame.python(function: "parse", file: "/srv/app.py", line: 20)
    static let parseAgain = Frame.python(function: "parse", file: "/srv/app.py", line: 22)
    static let read = Frame.kernel(symbol: "ksys_read")
    static let hostile = Frame.python(function: "evil;\"name\"\n<script>\u{1b}[31m\\", file: "/tmp/<x>\".py", line: 1)
    static let tool = Frame.process(comm: "tool", pid: 7)
    static let toolThread = Frame.thread(name: "tool", tid: 7)

    /// Stacks, root first, and the samples of each in time order.
    static var profile: Profile {
        var profile = Profile(sampleTypes: [.samples, .cpuTime])
        let start: UInt64 = 1_000_000_000
        func at(_ tick: UInt64) -> UInt64 { start + tick * period }
        let stacks: [([Frame], [UInt64])] = [
            ([app, mainThread, main, run, parse], [0, 1, 2, 6]),
            ([app, mainThread, main, run, parse, parseAgain], [3]),
            ([app, mainThread, main, run], [4, 5]),
            ([app, mainThread, main, run, parse, read], [7]),
            ([app, worker, main, hostile], [0, 1, 2]),
            ([tool, toolThread, .native(symbol: "", module: nil), .annotation(.pythonStackTruncated(frames: 1024))], [9]),
        ]
        var timeline: [Profile.TimedSample] = []
        for (frames, ticks) in stacks {
            let count = UInt64(ticks.count)
            let index = profile.add(frames, values: [count, count * period])!
            for tick in ticks {
                timeline.append(.init(stack: index, timestampNanoseconds: at(tick), cpu: 0, values: [1, period]))
            }
        }
        for sample in timeline { profile.appendTimeline(sample) }
        profile.sortTimeline()
        profile.recording = RecordingInfo(frequency: 100, startNanoseconds: start, startUnixNanoseconds: 0,
                                          durationNanoseconds: 10 * period, processCount: 2)
        return profile
    }

    /// The fixture without its timeline.
    static var aggregated: Profile {
        var profile = Profile(sampleTypes: [.samples, .cpuTime])
        profile.merge(self.profile)
        profile.recording = self.profile.recording
        return profile
    }

    /// From folded text: the total per root-and-thread prefix
    /// ("app (42);worker (43)").
    static func foldedTotals(_ folded: String, depth: Int = 2) -> [String: UInt64] {
        var totals: [String: UInt64] = [:]
        for line in folded.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let value = UInt64(line[line.index(after: space)...]) else { continue }
            let frames = line[..<space].split(separator: ";", omittingEmptySubsequences: false)
            totals[frames.prefix(depth).joined(separator: ";"), default: 0] += value
        }
        return totals
    }

    static func json(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try XCTUnwrap(object as? [String: Any], "not a JSON object", file: file, line: line)
    }
}
