import XCTest
@testable import Recording

/// What the summary keeps of processes stays bounded however many come and
/// go, and still counts each of them once.
final class BoundedReportTests: XCTestCase {
    func testUnsupportedProcessesAreListedWhileFewAndCountedBeyond() {
        var summary = UnsupportedInterpreters()
        let old = UnsupportedInterpreters.Kind(interpreterPath: "/opt/old/python", reason: "no layout for it")
        let odd = UnsupportedInterpreters.Kind(interpreterPath: "/opt/odd/python", reason: "cookie unreadable")
        for pid in Int32(1)...10_000 { summary.note(pid: pid, pid % 2 == 0 ? old : odd) }
        XCTAssertEqual(summary.listed.count, UnsupportedInterpreters.listedLimit)
        XCTAssertEqual(summary.listed.map(\.pid), Array(Int32(1)...Int32(UnsupportedInterpreters.listedLimit)))
        XCTAssertEqual(summary.processes, [old: 5_000, odd: 5_000])
        let unlisted = summary.unlisted
        XCTAssertEqual(unlisted.map(\.kind), [odd, old])
        XCTAssertEqual(unlisted.map(\.processes), [4_990, 4_990])
    }

    func testExitedProcessesAreCountedNotKept() {
        var report = PythonReport()
        for pid in Int32(1)...1_000 {
            report.byInterpreter["3.12.1 shared", default: PythonReport.VersionCounts()].livePIDs.insert(pid)
            report.forget(pid)
        }
        report.byInterpreter["3.12.1 shared"]!.livePIDs.insert(7)
        let counts = report.byInterpreter["3.12.1 shared"]!
        XCTAssertEqual(counts.livePIDs, [7], "only processes still alive are kept")
        XCTAssertEqual(counts.processes, 1_001, "a reused pid is another process")
        report.forget(12_345)
        XCTAssertEqual(report.byInterpreter["3.12.1 shared"]!.processes, 1_001, "a pid without samples counts nowhere")
    }
}
