import CPyrograph
import CPythonWalker
import Foundation
import ProcessInspection
@testable import PythonRuntime
@testable import Recording
import XCTest

/// The walker's C code against live interpreters (as root); with
/// `RECORD_WALKER_IMAGES=1` it rewrites the memory images that
/// `PythonWalkerTests` replays without root.
final class PythonWalkerLiveTests: XCTestCase {
    static var imageDirectory: URL { PythonWalkerTests.imageDirectory }

    func testWalkerOnLiveInterpreters() throws {
        try TestSupport.requireRoot()
        let debian = FileManager.default.fileExists(atPath: PythonInterpreters.debianRoot + "/.pyrograph-complete")
            ? PythonInterpreters.debian : []
        if debian.isEmpty { print("skipping Debian unstable's interpreters: \(PythonInterpreters.debianRoot) is missing") }
        for interpreter in PythonInterpreters.all + debian {
            let process = Process()
            let script = TestSupport.fixtures.appendingPathComponent("python/walker_target.py")
            if let root = interpreter.root {
                let directory = try interpreter.temporaryDirectory()
                let copy = directory.appendingPathComponent(script.lastPathComponent)
                try FileManager.default.copyItem(at: script, to: copy)
                process.executableURL = URL(fileURLWithPath: "/usr/sbin/chroot")
                process.arguments = [root, interpreter.path, "-B", interpreter.innerPath(copy.path)]
            } else {
                process.executableURL = URL(fileURLWithPath: interpreter.path)
                process.arguments = ["-B", script.path]
            }
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            defer { process.terminate(); process.waitUntilExit() }
            let line = output.fileHandleForReading.readLine()
            let report = try JSONDecoder().decode(TargetReport.self, from: Data(line.utf8))

            let detected = try XCTUnwrap(PythonProcessDetector().detect(pid: process.processIdentifier), interpreter.label)
            let layout = try XCTUnwrap(detected.layout, "\(interpreter.label): \(detected.unsupportedReason ?? "")")
            let memory = RecordingMemory(live: try ProcessMemory(pid: process.processIdentifier))
            var image = WalkerImage(label: interpreter.label, version: detected.version!.description,
                                    interpreterHeadAddress: detected.interpreterHeadAddress,
                                    tid: report.tid, threadID: report.thread_id, expected: report.stack, segments: [])
            if detected.family is DebugOffsetsFamily, let runtimeOffset = layout.runtimeInterpretersHead {
                // The replay derives 3.13+'s layout from _Py_DebugOffsets: record what the family reads.
                image.runtimeAddress = detected.interpreterHeadAddress - UInt64(runtimeOffset)
                _ = DebugOffsetsFamily().resolve(PythonInterpreterFacts(
                    memory: memory, runtimeAddress: detected.interpreterHeadAddress - UInt64(runtimeOffset),
                    interpreterHeadSymbol: nil, interpreterPath: "", version: { nil }))
            }
            XCTAssertNotNil(detected.codeTypeAddress, "\(interpreter.label): PyCode_Type not found")
            // The target prints its stack just before it parks in sleep();
            // until it gets there, its stack is still moving.
            var frames: [StackEntry] = []
            for _ in 0..<20 {
                // With the check that every frame's code is a code object.
                frames = try PythonWalkerTests.walkAndName(image, layout: layout, memory: memory,
                                                           codeType: detected.codeTypeAddress)
                if frames == report.stack { break }
                usleep(50_000)
            }
            XCTAssertEqual(frames, report.stack, "\(interpreter.label): the walker's stack differs from the interpreter's")
            if ProcessInfo.processInfo.environment["RECORD_WALKER_IMAGES"] == "1" {
                image.segments = memory.segments()
                try FileManager.default.createDirectory(at: Self.imageDirectory, withIntermediateDirectories: true)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                try encoder.encode(image).write(to: Self.imageDirectory.appendingPathComponent("\(interpreter.label).json"))
            }
        }
    }
}

private extension FileHandle {
    func readLine() -> String {
        var data = Data()
        while let byte = try? read(upToCount: 1), !byte.isEmpty, byte[0] != 0x0a { data.append(byte) }
        return String(decoding: data, as: UTF8.self)
    }
}
