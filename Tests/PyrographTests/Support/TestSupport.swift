import Foundation
import XCTest

/// Runs real programs for the integration tests: the pyrograph binary that
/// `make test` built, and fixtures compiled from Tests/.../Fixtures.
enum TestSupport {
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
    }

    /// The binary under test. `make test` sets PYROGRAPH_BIN; a plain
    /// `swift test` falls back to the release build.
    static func pyrographBinary() throws -> String {
        let path = ProcessInfo.processInfo.environment["PYROGRAPH_BIN"]
            ?? packageRoot.appendingPathComponent(".build/release/pyrograph").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            XCTFail("pyrograph binary not found at \(path): run the tests with `make test`")
            throw CancellationError()
        }
        return path
    }

    static func requireRoot() throws {
        if ProcessInfo.processInfo.environment["PYROGRAPH_UNIT_TESTS"] == "1" {
            XCTFail("a test that needs root is among the unit tests: move it to Tests/PyrographTests/Integration")
            throw CancellationError()
        }
        guard geteuid() == 0 else {
            XCTFail("integration tests load BPF programs and must run as root (make test)")
            throw CancellationError()
        }
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pyrograph-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Compiles a C fixture with frame pointers into `directory`.
    static func compileFixture(_ name: String, into directory: URL, extraFlags: [String] = []) throws -> URL {
        let output = directory.appendingPathComponent(name)
        let result = try run("/usr/bin/gcc", ["-O1", "-g", "-fno-omit-frame-pointer", "-fno-inline"] + extraFlags
            + ["-o", output.path, fixtures.appendingPathComponent("\(name).c").path])
        XCTAssertEqual(result.status, 0, "gcc failed: \(result.stderr)")
        return output
    }

    /// From a record summary's "maps re-read: R for mapping events (E
    /// events), ..." line: R and E; nil without that line (no events, or a
    /// kernel that sends none).
    static func mapsReReadForMappingEvents(_ stderr: String) -> (reReads: Int, events: Int)? {
        guard let line = stderr.split(separator: "\n").first(where: { $0.contains("maps re-read:") }),
              line.contains("for mapping events") else { return nil }
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        return numbers.count >= 2 ? (numbers[0], numbers[1]) : nil
    }

    struct Finished {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> Finished {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Finished(status: process.terminationStatus,
                        stdout: String(decoding: outData, as: UTF8.self),
                        stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A pyrograph recording running in the background.
final class RunningRecording {
    let process = Process()
    private let errorPipe = Pipe()
    private var collected = Data()
    private let lock = NSLock()

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: try TestSupport.pyrographBinary())
        process.arguments = arguments
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        errorPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            self.collected.append(data)
            self.lock.unlock()
        }
        try process.run()
    }

    var stderr: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    /// Waits until pyrograph says it is sampling.
    func waitUntilSampling(timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderr.contains("recording") { return }
            if !process.isRunning { break }
            usleep(20_000)
        }
        XCTFail("pyrograph did not start sampling; stderr:\n\(stderr)")
        throw CancellationError()
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        usleep(50_000)
        errorPipe.fileHandleForReading.readabilityHandler = nil
        return process.terminationStatus
    }
}

/// Folded output parsed back into stacks and counts.
struct FoldedProfile {
    var stacks: [(frames: [String], count: Int)] = []

    init(text: String) {
        for line in text.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let count = Int(line[line.index(after: space)...]) else { continue }
            stacks.append((line[..<space].split(separator: ";").map(String.init), count))
        }
    }

    var total: Int { stacks.reduce(0) { $0 + $1.count } }

    func stacks(ofRoot root: String) -> [(frames: [String], count: Int)] {
        stacks.filter { $0.frames.first == root }
    }

    /// A native frame's name without its ` [module]` suffix.
    static func symbol(_ frame: String) -> String {
        guard frame.hasSuffix("]"), let open = frame.range(of: " [", options: .backwards) else { return frame }
        return String(frame[..<open.lowerBound])
    }
}
