import BPFSampler
import CPyrograph
import Foundation
@testable import Recording
import XCTest

/// Sample records as the BPF program sends them: a fixed header, then the
/// kernel pcs, user pcs and Python frames packed back to back, and only
/// as many bytes as they fill.
final class RingBufferRecordTests: XCTestCase {
    private func record(kernel: [UInt64], kernelBytes: Int32? = nil, user: [UInt64], userBytes: Int32? = nil,
                        python: [(UInt64, Int32, UInt32)], origin: UInt32 = PYRO_ORIGIN_ON_CPU.rawValue,
                        weight: UInt64 = 10_101_010) -> [UInt8] {
        var sample = pyro_sample()
        sample.kind = PYRO_EVENT_SAMPLE.rawValue
        sample.pid = 42
        sample.origin = origin
        sample.weight_ns = weight
        sample.kernel_stack_bytes = kernelBytes ?? Int32(kernel.count * 8)
        sample.user_stack_bytes = userBytes ?? Int32(user.count * 8)
        sample.python_frame_count = UInt32(python.count)
        var words = kernel + user
        for (code, instruction, stamp) in python {
            words.append(code)
            words.append(UInt64(UInt32(bitPattern: instruction)) | UInt64(stamp) << 32)
        }
        withUnsafeMutableBytes(of: &sample.stacks) { raw in
            for (index, word) in words.enumerated() { raw.storeBytes(of: word, toByteOffset: index * 8, as: UInt64.self) }
        }
        let size = RawSample.fixedSize + words.count * 8
        return withUnsafeBytes(of: &sample) { Array($0.prefix(size)) }
    }

    private func parse(_ bytes: [UInt8]) throws -> RawSample {
        let record = bytes.withUnsafeBytes { RingBufferRecord($0) }
        guard case let .sample(sample) = record else { throw XCTSkip("not a sample: \(record)") }
        return sample
    }

    func testStacksFollowEachOther() throws {
        let sample = try parse(record(kernel: [0xffff_1, 0xffff_2], user: [0x401000, 0x402000, 0x403000],
                                      python: [(0x7f00, 12, 3), (0, 0, 0), (0x7f80, -1, 7)]))
        XCTAssertEqual(sample.pid, 42)
        XCTAssertEqual(sample.kernelStack, [0xffff_1, 0xffff_2])
        XCTAssertEqual(sample.userStack, [0x401000, 0x402000, 0x403000])
        XCTAssertEqual(sample.pythonFrames, [PythonFrameRecord(code: 0x7f00, instruction: 12, stamp: 3),
                                             PythonFrameRecord(code: 0, instruction: 0, stamp: 0),
                                             PythonFrameRecord(code: 0x7f80, instruction: -1, stamp: 7)])
    }

    /// A failed capture reports its errno and takes no words.
    func testAFailedCaptureTakesNoSpace() throws {
        let sample = try parse(record(kernel: [], kernelBytes: -14, user: [0x401000], python: [(0x7f00, 1, 1)]))
        XCTAssertEqual(sample.kernelStack, [])
        XCTAssertEqual(sample.kernelStackError, -14)
        XCTAssertEqual(sample.userStack, [0x401000])
        XCTAssertEqual(sample.pythonFrames.map(\.code), [0x7f00])
    }

    /// Counts that claim more than the record holds yield what it holds.
    func testARecordCutShortYieldsWhatItHolds() throws {
        var bytes = record(kernel: [1, 2], user: [3, 4], python: [(0x7f00, 1, 1), (0x7f10, 2, 2)])
        bytes.removeLast(8)
        let sample = try parse(bytes)
        XCTAssertEqual(sample.kernelStack, [1, 2])
        XCTAssertEqual(sample.userStack, [3, 4])
        XCTAssertEqual(sample.pythonFrames.map(\.code), [0x7f00])
    }

    /// What the record stands for: an on-CPU sample weighs the sampling
    /// period, an off-CPU interval its length.
    func testOriginAndWeight() throws {
        let onCPU = try parse(record(kernel: [1], user: [2], python: []))
        XCTAssertEqual(onCPU.origin, .onCPU)
        XCTAssertEqual(onCPU.weightNanoseconds, 10_101_010)
        let offCPU = try parse(record(kernel: [1], user: [2], python: [], origin: PYRO_ORIGIN_OFF_CPU.rawValue,
                                      weight: 3_000_000_007))
        XCTAssertEqual(offCPU.origin, .offCPU)
        XCTAssertEqual(offCPU.weightNanoseconds, 3_000_000_007)
        XCTAssertEqual(offCPU.kernelStack, [1])
        XCTAssertEqual(offCPU.userStack, [2])
    }

    /// A record that does not say what it stands for cannot be weighed.
    func testAnUnknownOriginIsMalformed() {
        for origin: UInt32 in [0, 3] {
            let bytes = record(kernel: [1], user: [2], python: [], origin: origin)
            XCTAssertEqual(bytes.withUnsafeBytes { RingBufferRecord($0) }, .malformed(kind: PYRO_EVENT_SAMPLE.rawValue,
                                                                                      size: bytes.count))
        }
    }
}
