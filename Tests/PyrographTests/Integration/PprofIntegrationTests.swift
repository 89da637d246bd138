import Foundation
import XCTest
@testable import Symbolization

/// A real recording of the mixed-stack workloads, written as pprof and
/// read by Go's `go tool pprof` (-raw, -top, -traces, -tags): the top
/// functions and their shares are those of the same recording's folded
/// stacks and report, the labels and units come through, and native
/// mappings carry their files' build IDs.
final class PprofIntegrationTests: XCTestCase {
    private var pyrograph: String { get throws { try TestSupport.pyrographBinary() } }

    func testGoToolPprofReadsARealRecording() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let library = directory.appendingPathComponent("libchain.so")
        let compiled = try TestSupport.run("/usr/bin/gcc", ["-O2", "-fomit-frame-pointer", "-shared", "-fPIC", "-o", library.path,
                                                            TestSupport.fixtures.appendingPathComponent("native/chain.c").path])
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        let python = try PythonInterpreters.require("3.12")
        let script = PythonInterpreters.script("mixed.py").path
        let workloads = try ["ctypes", "zlib", "stat"].map { mode in
            try Process.run(URL(fileURLWithPath: python.path), arguments: [script, mode, "600", library.path])
        }
        defer { workloads.forEach { if $0.isRunning { $0.terminate() } } }
        usleep(500_000)

        let output = directory.appendingPathComponent("mixed.pb.gz").path
        let recorded = try TestSupport.run(try pyrograph, ["record", "-F", "499", "-d", "2", "-o", output, "--report"]
                                           + workloads.flatMap { ["-p", String($0.processIdentifier)] })
        XCTAssertEqual(recorded.status, 0, recorded.stderr)
        workloads.forEach { $0.terminate(); $0.waitUntilExit() }

        // Units, period and labels, as Go reads them.
        let raw = try GoPprof.run(["-raw", output])
        XCTAssertTrue(raw.contains("PeriodType: cpu nanoseconds"), raw)
        XCTAssertTrue(raw.contains("Period: \(1_000_000_000 / 499)"), raw)
        XCTAssertTrue(raw.contains("samples/count[dflt] cpu/nanoseconds"), raw)
        let pids = workloads.map { String($0.processIdentifier) }
        for pid in pids {
            XCTAssertTrue(raw.contains("pid:[\(pid)] tid:[\(pid)]"), "no sample labelled pid \(pid)")
        }
        let comm = URL(fileURLWithPath: python.path).lastPathComponent
        XCTAssertTrue(raw.contains("process:[\(comm)] thread:[\(comm)]"), raw)
        // The library's mapping names its build ID, as the file has it.
        let buildID = try XCTUnwrap(try ELFFile(path: library.path).buildID, "gcc wrote no build ID")
        XCTAssertTrue(raw.contains("libchain.so \(buildID)"), raw)
        XCTAssertTrue(raw.contains("[kernel.kallsyms]"), raw)

        let tags = try GoPprof.run(["-tags", output])
        for pid in pids { XCTAssertTrue(tags.contains("): \(pid)\n"), "pid \(pid) missing from -tags:\n\(tags)") }
        XCTAssertTrue(tags.contains("): \(comm)\n"), tags)

        let traces = try GoPprof.run(["-traces", output])
        for function in ["compress_caller", "stat_caller", "caller", "inner"] {
            XCTAssertTrue(traces.contains(" \(function)\n"), "\(function) in no trace:\n\(traces.prefix(3000))")
        }

        // The same recording as folded stacks (through convert) and as the
        // report record printed: Go's -top agrees with both.
        let folded = directory.appendingPathComponent("mixed.folded").path
        let converted = try TestSupport.run(try pyrograph, ["convert", output, "-o", folded])
        XCTAssertEqual(converted.status, 0, converted.stderr)
        let expected = FoldedShares(text: try String(contentsOfFile: folded, encoding: .utf8))
        let (top, flatSum) = try GoPprof.table(output, sampleIndex: "samples")
        let ranked = top.filter { $0.value.flat > 0 }.sorted { $0.value.flat > $1.value.flat }.prefix(8)
        XCTAssertGreaterThanOrEqual(ranked.count, 5, "too few functions:\n\(top)")
        var compared: [String] = []
        for (name, row) in ranked {
            guard let self_ = expected.selfCounts[name], let total = expected.totalCounts[name],
                  !expected.ambiguous.contains(name) else { continue }
            XCTAssertEqual(row.flat, Double(self_), "\(name): self samples")
            XCTAssertEqual(row.cumulative, Double(total), "\(name): total samples")
            XCTAssertEqual(row.flatShare, 100 * Double(self_) / Double(expected.total), accuracy: 0.006, name)
            compared.append("\(name) \(row.flatShare)%")
        }
        XCTAssertGreaterThanOrEqual(compared.count, 4, "compared only \(compared) of \(ranked.map(\.key))")
        for name in ["inner", "compress_caller", "stat_caller"] {
            XCTAssertEqual(top[name]?.cumulative, expected.totalCounts[name].map(Double.init), name)
        }
        // Every sample's leaf is some row of Go's table.
        XCTAssertEqual(flatSum, Double(expected.total))

        // `report` on the file says what `record --report` said of the
        // recording in memory: nothing report reads was lost.
        let report = try TestSupport.run(try pyrograph, ["report", output])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertEqual(report.stdout, recorded.stdout)
        print("pprof: go tool pprof -top agrees with folded on \(compared.joined(separator: ", "))")

        // pprof -> folded -> pprof -> folded changes nothing.
        let again = directory.appendingPathComponent("again.pb.gz").path
        let againFolded = directory.appendingPathComponent("again.folded").path
        XCTAssertEqual(try TestSupport.run(try pyrograph, ["convert", folded, "-o", again]).status, 0)
        XCTAssertEqual(try TestSupport.run(try pyrograph, ["convert", again, "-o", againFolded, "-f", "folded"]).status, 0)
        XCTAssertEqual(try String(contentsOfFile: againFolded, encoding: .utf8), try String(contentsOfFile: folded, encoding: .utf8))
    }

    /// Folded written directly by record, converted to pprof and back, is
    /// the same text.
    func testFoldedRecordingRoundTripsThroughPprof() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let python = try PythonInterpreters.require("3.11")
        let workload = try Process.run(URL(fileURLWithPath: python.path),
                                       arguments: [PythonInterpreters.script("mixed.py").path, "hashlib", "600"])
        defer { if workload.isRunning { workload.terminate() } }
        usleep(300_000)
        let folded = directory.appendingPathComponent("direct.folded").path
        let recorded = try TestSupport.run(try pyrograph, ["record", "-F", "199", "-d", "1", "--threads", "-o", folded,
                                                          "-p", String(workload.processIdentifier)])
        XCTAssertEqual(recorded.status, 0, recorded.stderr)
        let pprof = directory.appendingPathComponent("x.pprof").path
        let back = directory.appendingPathComponent("back.folded").path
        XCTAssertEqual(try TestSupport.run(try pyrograph, ["convert", folded, "-o", pprof]).status, 0)
        XCTAssertEqual(try TestSupport.run(try pyrograph, ["convert", pprof, "-o", back]).status, 0)
        let direct = try String(contentsOfFile: folded, encoding: .utf8)
        XCTAssertGreaterThan(FoldedProfile(text: direct).total, 50)
        XCTAssertEqual(try String(contentsOfFile: back, encoding: .utf8), direct)
    }
}

/// Per function, as `go tool pprof -top` names them, the samples in which
/// it is the leaf (self) and in which it appears at all (total), from
/// folded text; roots (process, thread) are labels in pprof, not functions.
struct FoldedShares {
    var selfCounts: [String: Int] = [:]
    var totalCounts: [String: Int] = [:]
    var total = 0
    /// Names two different frames share (a function in two files), which
    /// Go lists twice.
    var ambiguous = Set<String>()

    init(text: String) {
        var identities: [String: Set<String>] = [:]
        for stack in FoldedProfile(text: text).stacks {
            total += stack.count
            let code = stack.frames.dropFirst(stack.frames.count > 1 && Self.isThread(stack.frames[1]) ? 2 : 1)
            var seen = Set<String>()
            for (index, frame) in code.enumerated() {
                let isLeaf = index == code.count - 1
                guard let name = Self.goName(frame) else { continue }
                identities[name, default: []].insert(Self.identity(frame))
                if seen.insert(name).inserted { totalCounts[name, default: 0] += stack.count }
                if isLeaf { selfCounts[name, default: 0] += stack.count }
            }
        }
        ambiguous = Set(identities.filter { $0.value.count > 1 }.keys)
    }

    /// `NAME (TID)`.
    static func isThread(_ frame: String) -> Bool {
        guard frame.hasSuffix(")"), let open = frame.range(of: " (", options: .backwards) else { return false }
        return Int(frame[open.upperBound...].dropLast()) != nil
    }

    /// A frame's function: a Python frame without its line.
    static func identity(_ frame: String) -> String {
        guard frame.hasSuffix(")"), let colon = frame.range(of: ":", options: .backwards) else { return frame }
        return String(frame[..<colon.lowerBound])
    }

    /// `qualname (file:line)` → qualname, `symbol [module]` → symbol,
    /// `symbol_[k]` → symbol; `module+0xOFFSET` has no name.
    static func goName(_ frame: String) -> String? {
        if frame.hasSuffix("_[k]") { return String(frame.dropLast(4)) }
        if frame.hasPrefix("[") { return frame }
        if frame.hasSuffix(")"), let open = frame.range(of: " (", options: .backwards),
           frame[open.upperBound...].contains(":") { return String(frame[..<open.lowerBound]) }
        if frame.hasSuffix("]"), let open = frame.range(of: " [", options: .backwards) { return String(frame[..<open.lowerBound]) }
        if frame.range(of: "+0x") != nil, !frame.contains(" ") { return nil }
        return frame
    }
}
