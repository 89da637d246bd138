import Foundation
import XCTest
@testable import ProcessInspection

/// -p of a kernel thread or a zombie is refused before sampling.
final class ProcessTargetLiveTests: XCTestCase {
    func testKernelThreadIsRejectedBeforeSampling() throws {
        try TestSupport.requireRoot()
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), ["record", "-d", "1", "-p", "2", "-o", "/dev/null"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("-p 2 is a kernel thread"), result.stderr)
        XCTAssertFalse(result.stderr.contains("recording"), result.stderr)
    }

    /// `sleep 0.1` is left unreaped by the `sleep 30` its parent shell
    /// became.
    func testZombieIsRejectedBeforeSampling() throws {
        try TestSupport.requireRoot()
        let parent = try Process.run(URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "sleep 0.1 & exec sleep 30"])
        defer { parent.terminate(); parent.waitUntilExit() }
        var zombie: Int32?
        let deadline = Date().addingTimeInterval(5)
        while zombie == nil && Date() < deadline {
            usleep(50_000)
            zombie = ProcessStatus.all().first { $0.parent == parent.processIdentifier && $0.isZombie }?.pid
        }
        let pid = try XCTUnwrap(zombie, "no zombie appeared")
        let result = try TestSupport.run(try TestSupport.pyrographBinary(), ["record", "-d", "1", "-p", "\(pid)", "-o", "/dev/null"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("-p \(pid) has exited"), result.stderr)
        XCTAssertFalse(result.stderr.contains("recording"), result.stderr)
    }

}
