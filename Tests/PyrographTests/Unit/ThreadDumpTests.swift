import CPyrograph
import ProcessInspection
import PythonRuntime
@testable import ThreadDump
import XCTest

/// `dump`'s pieces that need no process: the pthread-to-tid search, what
/// counts as a torn stack, and the text's escaping.
final class ThreadDumpTests: XCTestCase {
    func testPthreadsAreMatchedToTheirTIDsAtTheOffsetEveryOneAgreesOn() {
        let memory = BlockMemory()
        memory.blocks[0x10000] = Self.pthread(tid: 101, at: 0x2d0, decoy: 777)
        memory.blocks[0x20000] = Self.pthread(tid: 102, at: 0x2d0, decoy: 102)
        XCTAssertEqual(PthreadTIDs.map(pthreads: [0x10000, 0x20000], tids: [101, 102, 777], memory: memory),
                       [0x10000: 101, 0x20000: 102])
        // Another glibc: the offset is searched, and the decoy at 0x10
        // (not the same tid for both) is not taken.
        memory.blocks[0x10000] = Self.pthread(tid: 101, at: 0x2e0, decoy: 777)
        memory.blocks[0x20000] = Self.pthread(tid: 102, at: 0x2e0, decoy: 777)
        XCTAssertEqual(PthreadTIDs.map(pthreads: [0x10000, 0x20000], tids: [101, 102, 777], memory: memory),
                       [0x10000: 101, 0x20000: 102])
        // A pthread at the end of its mapping is read by its readable prefix.
        memory.blocks[0x20000] = Array(Self.pthread(tid: 102, at: 0x2e0, decoy: 5).prefix(0x800))
        XCTAssertEqual(PthreadTIDs.map(pthreads: [0x10000, 0x20000], tids: [101, 102], memory: memory),
                       [0x10000: 101, 0x20000: 102])
        XCTAssertEqual(PthreadTIDs.map(pthreads: [0x10000], tids: [999], memory: memory), [:])
    }

    func testOnlyTheInnermostFrameMayMoveBetweenTwoReadsOfOneStack() {
        typealias Raw = PythonStackWalker.RawFrame
        let ok = PYRO_PYTHON_OK.rawValue
        let first = PythonStackWalker.Walk(frames: [Raw(code: 1, instruction: 10, stamp: 1), Raw(code: 2, instruction: 5, stamp: 2)], status: ok)
        var innerMoved = first
        innerMoved.frames[0].instruction = 12
        XCTAssertTrue(PythonStackWalker.sameStack(first, innerMoved))
        var outerMoved = first
        outerMoved.frames[1].instruction = 7
        XCTAssertFalse(PythonStackWalker.sameStack(first, outerMoved))
        var returned = first
        returned.frames.removeFirst()
        XCTAssertFalse(PythonStackWalker.sameStack(first, returned))
        var replaced = first
        replaced.frames[0].stamp = 9
        XCTAssertFalse(PythonStackWalker.sameStack(first, replaced))
    }

    func testTextEscapesEveryNameFromTheProcess() {
        let thread = ThreadSnapshot(tid: 42, osName: "os\u{1b}]0;x\u{07}", pythonName: "worker\n1", pythonThreadID: 7,
                                    stack: PythonStackRead(.inconsistent, reads: 5),
                                    frames: [DumpFrame(function: "f\u{1b}[2J", file: "/a\u{202e}b.py", line: 3),
                                             DumpFrame(function: nil, file: nil, line: nil)])
        let text = DumpTextWriter.text(ProcessSnapshot(pid: 1, command: "python\u{1b}[31m", pythonVersion: "3.12.1",
                                                       locked: false, threads: [thread]))
        XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 || $0.value == 0x202e })
        XCTAssertTrue(text.contains(#"Thread 42 "worker\n1" (os: os\x1b]0;x\x07): stack kept changing over 5 reads"#), text)
        XCTAssertTrue(text.contains(#"    f\x1b[2J (/a\u{202e}b.py:3)"#), text)
        XCTAssertTrue(text.contains("    [python frame unreadable] (?)"), text)
    }

    /// A struct pthread image: `tid` at `offset`, `decoy` at 0x10.
    static func pthread(tid: Int32, at offset: Int, decoy: Int32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 0x1000)
        withUnsafeBytes(of: tid.littleEndian) { bytes.replaceSubrange(offset..<offset + 4, with: $0) }
        withUnsafeBytes(of: decoy.littleEndian) { bytes.replaceSubrange(0x10..<0x14, with: $0) }
        return bytes
    }
}

/// Memory made of blocks at addresses; anything else is unreadable.
private final class BlockMemory: MemoryReader {
    var blocks: [UInt64: [UInt8]] = [:]

    func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        for (start, bytes) in blocks where address >= start && address + UInt64(buffer.count) <= start + UInt64(bytes.count) {
            let offset = Int(address - start)
            buffer.copyBytes(from: bytes[offset..<offset + buffer.count])
            return true
        }
        return false
    }
}


