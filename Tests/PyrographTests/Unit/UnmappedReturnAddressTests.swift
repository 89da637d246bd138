import Aggregation
import CPyrograph
import Foundation
@testable import Recording
import XCTest

/// A CFI walk that steps through a function without CFI (OpenBLAS's
/// assembly kernels) can read a saved register, even a double such as
/// 0x3fa8..., as a return address. The kernel stops there (no mapping);
/// that word is not a frame, and the stop marker stands in its place.
final class UnmappedReturnAddressTests: XCTestCase {
    /// Two return addresses in this process's libc, then a double.
    private static func userStack() throws -> [UInt64] {
        let inLibc = try ["getpid", "write"].map { (name: String) -> UInt64 in
            let address = try XCTUnwrap(dlsym(nil, name), name)
            return UInt64(UInt(bitPattern: address))
        }
        return [inLibc[0] + 4, inLibc[1] + 4, 0x3fa8_0b47_6d8e_1c2a]
    }

    private static func frames(status: pyro_native_status) throws -> [Frame] {
        var sample = RawSample(pid: getpid(), tid: getpid(), processComm: "test", threadComm: "test",
                               kernelStack: [], userStack: try userStack())
        sample.nativeStatus = status
        return StackSymbolizer().frames(for: sample)
    }

    func testAReturnAddressOutsideEveryMappingIsNotAFrame() throws {
        let frames = try Self.frames(status: PYRO_NATIVE_NO_MAPPING)
        XCTAssertFalse(frames.contains { $0.kind == .native && $0.module == "[unmapped]" }, "\(frames)")
        XCTAssertEqual(frames.filter { $0.kind == .native }.count, 2, "\(frames)")
        XCTAssertEqual(frames.first, .annotation(.nativeUnwindStopped(.pcOutsideKnownMappings)), "\(frames)")
    }

    /// The leaf is kept wherever it is: a thread can run code the loader
    /// has not seen mapped yet.
    func testAnUnmappedLeafStays() throws {
        var sample = RawSample(pid: getpid(), tid: getpid(), processComm: "test", threadComm: "test",
                               kernelStack: [], userStack: [0x3fa8_0b47_6d8e_1c2a])
        sample.nativeStatus = PYRO_NATIVE_NO_MAPPING
        let frames = StackSymbolizer().frames(for: sample)
        XCTAssertTrue(frames.contains { $0.kind == .native && $0.module == "[unmapped]" }, "\(frames)")
    }
}
