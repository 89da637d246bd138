import Foundation
import XCTest

/// The real thing: the release binary loads its BPF programs into this
/// kernel and samples real processes.
final class RecordIntegrationTests: XCTestCase {
    let frequency = 99

    /// A frame-pointer C program burning all its CPU in main -> outer ->
    /// inner, recorded system-wide.
    func testSystemWideRecordingNamesTheBurnerAndCountsSamples() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let burn = try TestSupport.compileFixture("burn", into: directory)
        let output = directory.appendingPathComponent("host.folded")

        let recording = try RunningRecording(arguments: ["record", "--all", "-d", "5", "-F", "\(frequency)", "-o", output.path])
        try recording.waitUntilSampling()
        let (pid, cpuSeconds) = try runMeasured(burn.path, ["2.5"])
        XCTAssertEqual(recording.wait(), 0, recording.stderr)

        let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
        let ours = profile.stacks(ofRoot: "burn (\(pid))")
        let total = ours.reduce(0) { $0 + $1.count }
        let expected = Double(frequency) * cpuSeconds
        XCTAssertEqual(Double(total), expected, accuracy: expected * 0.15,
                       "samples of burn vs rate x its CPU time (\(cpuSeconds) s)")

        let named = ours.filter { stack in
            let symbols = stack.frames.map(FoldedProfile.symbol)
            guard let main = symbols.lastIndex(of: "main") else { return false }
            return Array(symbols[main...].prefix(3)) == ["main", "outer", "inner"]
                && symbols[(main + 3)...].allSatisfy { $0.hasSuffix("_[k]") }
        }.reduce(0) { $0 + $1.count }
        XCTAssertGreaterThanOrEqual(Double(named), 0.9 * Double(total),
                                    "stacks of burn:\n\(ours.map { $0.frames.joined(separator: ";") + " \($0.count)" }.joined(separator: "\n"))")
        XCTAssertTrue(recording.stderr.contains("lost samples: 0"), recording.stderr)
    }

    /// The binary is deleted and the process exits long before the recording
    /// ends: its frames must still be named.
    func testProcessThatExitsMidRecordingKeepsNamedFrames() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let burn = try TestSupport.compileFixture("burn", into: directory)
        let output = directory.appendingPathComponent("exit.folded")

        let recording = try RunningRecording(arguments: ["record", "--all", "-d", "4", "-o", output.path])
        try recording.waitUntilSampling()
        let process = try Process.run(burn, arguments: ["1"])
        usleep(300_000)
        try FileManager.default.removeItem(at: burn)
        process.waitUntilExit()
        XCTAssertTrue(recording.process.isRunning, "the recording should outlive the process")
        XCTAssertEqual(recording.wait(), 0, recording.stderr)

        let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
        let ours = profile.stacks(ofRoot: "burn (\(process.processIdentifier))")
        XCTAssertGreaterThan(ours.reduce(0) { $0 + $1.count }, 50)
        let withInner = ours.filter { $0.frames.map(FoldedProfile.symbol).contains("inner") }.reduce(0) { $0 + $1.count }
        XCTAssertGreaterThanOrEqual(Double(withInner), 0.9 * Double(ours.reduce(0) { $0 + $1.count }))
    }

    /// `record -- COMMAND` profiles only the command and its children, and
    /// stops when it exits.
    func testCommandModeProfilesTheChildAndStopsWithIt() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let burn = try TestSupport.compileFixture("burn", into: directory)
        let output = directory.appendingPathComponent("command.folded")
        let started = Date()
        let result = try TestSupport.run(try TestSupport.pyrographBinary(),
                                         ["record", "-o", output.path, "--", "/bin/sh", "-c", "\(burn.path) 1.5"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        let profile = FoldedProfile(text: try String(contentsOf: output, encoding: .utf8))
        let roots = Set(profile.stacks.compactMap { $0.frames.first?.split(separator: " ").first.map(String.init) })
        XCTAssertTrue(roots.isSubset(of: ["sh", "burn"]), "unexpected processes: \(roots)")
        let burnSamples = profile.stacks.filter { $0.frames.first?.hasPrefix("burn (") == true }.reduce(0) { $0 + $1.count }
        XCTAssertGreaterThan(burnSamples, 100, result.stderr)
    }

    func testSIGTERMStopsAndStillWritesTheProfile() throws {
        try TestSupport.requireRoot()
        let directory = try TestSupport.temporaryDirectory()
        let output = directory.appendingPathComponent("term.svg")
        let recording = try RunningRecording(arguments: ["record", "-o", output.path])
        try recording.waitUntilSampling()
        usleep(500_000)
        recording.process.terminate()
        XCTAssertEqual(recording.wait(), 0, recording.stderr)
        let svg = try String(contentsOf: output, encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<?xml") || svg.hasPrefix("<svg"), String(svg.prefix(200)))
        XCTAssertTrue(recording.stderr.contains("wrote \(output.path)"), recording.stderr)
    }

    private func runMeasured(_ path: String, _ arguments: [String]) throws -> (Int32, Double) {
        var pid: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, path, nil, nil, &argv, environ) == 0 else { throw CancellationError() }
        var status: Int32 = 0
        var usage = rusage()
        _ = wait4(pid, &status, 0, &usage)
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return (pid, cpu)
    }
}
