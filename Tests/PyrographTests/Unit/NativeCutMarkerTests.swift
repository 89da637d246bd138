import Aggregation
import CPyrograph
import Foundation
@testable import PythonRuntime
@testable import Recording
import XCTest

/// A sample with Python frames but no trustworthy native frames (the
/// process had no unwind table yet, and a frame-pointer walk through an
/// interpreter built without them stops at the leaf) says so under its
/// Python frames, instead of hanging them from the process frame as if
/// nothing were missing.
final class NativeCutMarkerTests: XCTestCase {
    func testPythonFramesWithoutAnUnwindTableGetAMarker() throws {
        for (label, image, layout) in try PythonWalkerTests.recordedImages() {
            let frames = try Self.frames(image, layout: layout, status: PYRO_NATIVE_FRAME_POINTERS)
            XCTAssertEqual(frames.first, .annotation(.nativeUnwindStopped(.noUnwindTable)), "\(label): \(frames)")
            XCTAssertEqual(Self.annotations(frames), 1, "\(label): \(frames)")
            XCTAssertGreaterThan(frames.count, 1, label)
        }
    }

    /// A CFI walk that reached the outermost frame needs no marker.
    func testACompleteWalkHasNoMarker() throws {
        for (label, image, layout) in try PythonWalkerTests.recordedImages() {
            let frames = try Self.frames(image, layout: layout, status: PYRO_NATIVE_COMPLETE)
            XCTAssertEqual(Self.annotations(frames), 0, "\(label): \(frames)")
        }
    }

    private static func annotations(_ frames: [Frame]) -> Int {
        frames.filter { $0.annotation != nil }.count
    }

    private static func frames(_ image: WalkerImage, layout: PythonLayout, status: pyro_native_status) throws -> [Frame] {
        let memory = ImageMemory(image.segments)
        let sample = PythonWalkerTests.walk(image, layout: layout, memory: memory, codeType: nil)
        defer { sample.deallocate() }
        sample.pointee.origin = PYRO_ORIGIN_ON_CPU.rawValue
        sample.pointee.native_status = numericCast(status.rawValue)
        let raw = try XCTUnwrap(RawSample(UnsafeRawBufferPointer(start: sample, count: MemoryLayout<pyro_sample>.size)))
        let process = PythonProcess(pid: 0, version: PythonVersion(string: image.version), buildKind: .shared,
                                    interpreterPath: "", layout: layout, interpreterHeadAddress: image.interpreterHeadAddress)
        return StackSymbolizer().frames(for: raw, python: PythonSymbolizer(process: process, memory: memory))
    }
}
