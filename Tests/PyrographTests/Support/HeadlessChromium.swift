import Foundation
import XCTest

/// Debian's Chromium, headless, for tests that check what the SVG's script
/// does in a real browser. Without the sandbox (tests run as root) and with
/// a profile of its own per run; output goes to files, which cannot fill up
/// and block the way a pipe can.
struct HeadlessChromium {
    let executable: URL
    let workDirectory: URL

    init(workDirectory: URL) throws {
        executable = try BrowserFlameGraphTests.chromium()
        self.workDirectory = workDirectory
    }

    /// The DOM once the page's script has run. `framedFiles` lets a page's
    /// script reach into a file it frames, as a test page driving the SVG
    /// in an iframe must.
    func dumpDOM(_ url: URL, query: String = "", framedFiles: Bool = false) throws -> String {
        try run((framedFiles ? ["--allow-file-access-from-files"] : [])
            + ["--virtual-time-budget=3000", "--dump-dom", url.absoluteString + query])
    }

    func screenshot(_ url: URL, to png: URL, width: Int = 1200, height: Int = 800) throws {
        _ = try run(["--virtual-time-budget=3000", "--screenshot=\(png.path)", "--window-size=\(width),\(height)",
                     url.absoluteString])
    }

    private func run(_ arguments: [String]) throws -> String {
        let id = UUID().uuidString
        let stdout = workDirectory.appendingPathComponent("chromium-stdout-\(id)")
        let stderr = workDirectory.appendingPathComponent("chromium-stderr-\(id)")
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--user-data-dir=\(workDirectory.appendingPathComponent("chromium-profile").path)",
        ] + arguments
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let errors = String(decoding: FileManager.default.contents(atPath: stderr.path) ?? Data(), as: UTF8.self)
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw BrowserFlameGraphTests.BrowserError(description: "chromium did not finish in 120 s: \(errors.suffix(2000))")
        }
        guard process.terminationStatus == 0 else {
            throw BrowserFlameGraphTests.BrowserError(
                description: "chromium exited with \(process.terminationStatus): \(errors.suffix(2000))")
        }
        return String(decoding: FileManager.default.contents(atPath: stdout.path) ?? Data(), as: UTF8.self)
    }
}
