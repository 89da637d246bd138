import Foundation
@testable import NativeUnwinding
import Symbolization
import XCTest

/// The eval loop's unnamed part in stripped builds (ColdPartLocator).
final class ColdPartLocatorTests: XCTestCase {
    /// Jumps out of the function vote for the FDE they land in; named
    /// targets, targets in no FDE and jumps within the function do not.
    func testTheMostJumpedToUnnamedEntryWins() {
        let start: UInt64 = 0x1000
        func jump(_ opcode: [UInt8], from offset: Int, to target: UInt64) -> [UInt8] {
            let next = Int64(start) + Int64(offset + opcode.count + 4)
            let displacement = UInt32(bitPattern: Int32(Int64(target) - next))
            return opcode + (0..<4).map { UInt8((displacement >> (8 * $0)) & 0xff) }
        }
        var code: [UInt8] = []
        code += jump([0xe9], from: code.count, to: 0x8010)        // cold part
        code += jump([0x0f, 0x85], from: code.count, to: 0x8020)  // cold part
        code += jump([0xe9], from: code.count, to: 0x9010)        // named function
        code += jump([0xe9], from: code.count, to: 0x9010)
        code += jump([0xe9], from: code.count, to: 0x9010)
        code += jump([0xe9], from: code.count, to: 0xa000)        // no FDE
        code += jump([0xe9], from: code.count, to: 0x1002)        // itself
        code += [0x90, 0x90, 0x90]
        let fdes: [Range<UInt64>] = [0x1000..<0x1100, 0x8000..<0x9000, 0x9000..<0x9100]
        let part = ColdPartLocator.votedPart(code: code, at: start, fdes: fdes) { (0x9000..<0x9100).contains($0) }
        XCTAssertEqual(part, 0x8000..<0x9000)
        XCTAssertNil(ColdPartLocator.votedPart(code: Array(code.prefix(5)), at: start, fdes: fdes) { _ in false },
                     "one vote is not enough")
    }

    /// Debian unstable's stripped 3.13 to 3.15 run most of their eval loop
    /// in a part no symbol names, many times the named function's size.
    func testDebianBuildsEvalLoopPart() throws {
        let root = PythonInterpreters.debianRoot
        guard FileManager.default.fileExists(atPath: root + "/.pyrograph-complete") else {
            throw XCTSkip("\(root) is missing: run Tests/Interpreters/debian-unstable.sh (make test does)")
        }
        for version in ["3.13", "3.14", "3.15"] {
            let path = "\(root)/usr/bin/python\(version)"
            let file = try ELFFile(path: path)
            let named = try XCTUnwrap(file.symbols.symbols.first { $0.name == "_PyEval_EvalFrameDefault" }, version)
            let parts = ColdPartLocator.unnamedParts(of: "_PyEval_EvalFrameDefault", path: path)
            XCTAssertEqual(parts.count, 1, version)
            guard let part = parts.first else { continue }
            XCTAssertGreaterThan(part.count, 10 * Int(named.size), "\(version): \(part) against \(named.size) bytes named")
            XCTAssertNil(file.symbols.lookup(part.lowerBound), "\(version): a symbol names \(part)")
        }
    }
}
