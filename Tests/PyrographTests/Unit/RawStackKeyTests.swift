import XCTest
@testable import Recording

/// Samples are the same stack exactly when their thread and everything the
/// kernel captured are the same.
final class RawStackKeyTests: XCTestCase {
    func testEqualCapturesShareAKeyAndAnyDifferenceSplitsThem() {
        let base = RawSample(pid: 10, tid: 11, processComm: "python3", threadComm: "worker",
                             kernelStack: [0xffff_ffff_8100_0000], userStack: [0x401000, 0x402000])
        XCTAssertEqual(RawStackKey(base), RawStackKey(base))
        var variants: [RawSample] = []
        var other = base
        other.userStack = [0x401000, 0x402008]
        variants.append(other)
        other = base
        other.kernelStack = []
        variants.append(other)
        other = base
        other.threadComm = "worker2"
        variants.append(other)
        other = base
        other.tid = 12
        variants.append(other)
        other = base
        other.pythonFrames = [PythonFrameRecord(code: 0x7f00, instruction: 3, stamp: 1)]
        variants.append(other)
        other = base
        other.userStack = [0x401000]
        other.kernelStack = [0xffff_ffff_8100_0000, 0x402000]
        variants.append(other)
        let keys = Set(([base] + variants).map(RawStackKey.init))
        XCTAssertEqual(keys.count, variants.count + 1, "every variant is its own stack")
        XCTAssertNotEqual(RawStackKey(overflowOf: 10), RawStackKey(base))
    }
}
