import Foundation
import XCTest

/// A fixture process the test steps through: it writes a line to the
/// process's stdin and waits for the line the process answers on stdout.
final class LineDrivenProcess {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var unread: [UInt8] = []

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    deinit { stop() }

    var pid: Int32 { process.processIdentifier }

    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Returns once the process has printed `line`; fails the test if its
    /// output ends first.
    func waitFor(_ line: String) throws {
        while true {
            if let newline = unread.firstIndex(of: UInt8(ascii: "\n")) {
                let printed = String(decoding: unread[..<newline], as: UTF8.self)
                unread.removeFirst(newline + 1)
                if printed == line { return }
                continue
            }
            let data = output.fileHandleForReading.availableData
            guard !data.isEmpty else {
                XCTFail("\(process.arguments ?? []) ended without printing \"\(line)\"")
                throw CancellationError()
            }
            unread.append(contentsOf: data)
        }
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
