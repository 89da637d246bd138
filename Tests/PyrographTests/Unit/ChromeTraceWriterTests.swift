import Foundation
import XCTest
@testable import Aggregation
@testable import Output

final class ChromeTraceWriterTests: XCTestCase {
    func testMatchesGoldenFile() {
        assertMatchesGolden(ChromeTraceWriter().rendered(FormatFixture.profile), named: "chrome-basic.trace.json")
    }

    /// Valid trace-event JSON: every event has the fields its phase needs,
    /// complete events nest properly per thread, and the outermost events of
    /// a thread last exactly its samples × the period.
    func testPerThreadDurationsAddUpToTheSamples() throws {
        for profile in [FormatFixture.profile, FormatFixture.aggregated] {
            let events = try TraceEvents(ChromeTraceWriter().rendered(profile))
            let expected = FormatFixture.foldedTotals(FoldedWriter.render(profile)).mapValues { $0 * FormatFixture.period }
            var byThread: [String: UInt64] = [:]
            for (tid, duration) in events.outermostDurations {
                byThread[try XCTUnwrap(events.threadKeys[tid])] = duration
            }
            XCTAssertEqual(byThread, expected)
        }
    }

    func testRunsOfIdenticalFramesAreOneEvent() throws {
        let events = try TraceEvents(ChromeTraceWriter().rendered(FormatFixture.profile))
        let main = events.complete.filter { $0.tid == 42 }
        // run: ticks 0-5 (one run), then 6-7 after nothing: no gap, so one event over 8 ticks.
        let runs = main.filter { $0.name.hasPrefix("run (") }
        XCTAssertEqual(runs.map(\.duration), [8 * FormatFixture.period])
        // parse line 20: ticks 0-3, then 6-7.
        XCTAssertEqual(main.filter { $0.name == "parse (/srv/app.py:20)" }.map(\.start),
                       [0, 6 * FormatFixture.period])
        XCTAssertTrue(events.complete.contains { $0.name == FrameNaming.displayName(FormatFixture.hostile) })
    }

    func testAGapClosesEveryFrame() throws {
        var profile = Profile(sampleTypes: [.samples, .cpuTime])
        let stack = [FormatFixture.app, FormatFixture.mainThread, FormatFixture.run]
        let index = profile.add(stack, values: [2, 2 * FormatFixture.period])!
        for tick: UInt64 in [0, 5] {
            profile.appendTimeline(.init(stack: index, timestampNanoseconds: tick * FormatFixture.period, cpu: 0,
                                         values: [1, FormatFixture.period]))
        }
        let events = try TraceEvents(ChromeTraceWriter().rendered(profile))
        XCTAssertEqual(events.complete.map(\.start), [0, 5 * FormatFixture.period])
    }
}

/// A trace-event file read back and checked.
struct TraceEvents {
    struct Complete {
        var name: String
        var pid: Int
        var tid: Int
        var start: UInt64
        var duration: UInt64
    }

    var complete: [Complete] = []
    /// tid → "process name (pid);thread name (tid)", as folded names them.
    var threadKeys: [Int: String] = [:]

    init(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let json = try FormatFixture.json(text)
        let events = try XCTUnwrap(json["traceEvents"] as? [[String: Any]], file: file, line: line)
        var processNames: [Int: String] = [:]
        var threadNames: [Int: (pid: Int, name: String)] = [:]
        func nanoseconds(_ value: Any?) throws -> UInt64 {
            let micro = try XCTUnwrap(value as? Double, "ts or dur is not a number", file: file, line: line)
            return UInt64((micro * 1000).rounded())
        }
        for event in events {
            let phase = try XCTUnwrap(event["ph"] as? String, file: file, line: line)
            let pid = try XCTUnwrap(event["pid"] as? Int, file: file, line: line)
            let tid = try XCTUnwrap(event["tid"] as? Int, file: file, line: line)
            let name = try XCTUnwrap(event["name"] as? String, file: file, line: line)
            switch phase {
            case "M":
                let value = try XCTUnwrap((event["args"] as? [String: Any])?["name"] as? String, file: file, line: line)
                if name == "process_name" { processNames[pid] = value } else { threadNames[tid] = (pid, value) }
            case "X":
                complete.append(Complete(name: name, pid: pid, tid: tid, start: try nanoseconds(event["ts"]),
                                         duration: try nanoseconds(event["dur"])))
            default:
                XCTFail("unexpected phase \(phase)", file: file, line: line)
            }
        }
        for (tid, thread) in threadNames {
            threadKeys[tid] = "\(processNames[thread.pid] ?? "") (\(thread.pid));\(thread.name) (\(tid))"
        }
        // Per thread, every event lies inside the one it starts in.
        for (tid, _) in threadNames {
            var stack: [Complete] = []
            for event in complete.filter({ $0.tid == tid }).sorted(by: { ($0.start, UInt64.max - $0.duration) < ($1.start, UInt64.max - $1.duration) }) {
                while let top = stack.last, top.start + top.duration <= event.start { stack.removeLast() }
                if let top = stack.last {
                    XCTAssertLessThanOrEqual(event.start + event.duration, top.start + top.duration,
                                             "\(event.name) overlaps \(top.name)", file: file, line: line)
                }
                stack.append(event)
            }
        }
    }

    /// Per tid, the summed duration of events no other event contains.
    var outermostDurations: [Int: UInt64] {
        var result: [Int: UInt64] = [:]
        for tid in Set(complete.map(\.tid)) {
            var end: UInt64 = 0
            for event in complete.filter({ $0.tid == tid }).sorted(by: { ($0.start, UInt64.max - $0.duration) < ($1.start, UInt64.max - $1.duration) })
            where event.start >= end {
                result[tid, default: 0] += event.duration
                end = event.start + event.duration
            }
        }
        return result
    }
}
