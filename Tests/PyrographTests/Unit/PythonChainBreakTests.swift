import Aggregation
import CPyrograph
import CPythonWalker
import Foundation
import ProcessInspection
@testable import PythonRuntime
@testable import Recording
import XCTest

/// A frame chain that stops making sense (a cycle, a bad pointer, a frame
/// whose code is not a code object) ends the walk where it broke, with one
/// annotation saying why: the recorded interpreter images, corrupted, are
/// replayed through the BPF walker's own code and then decoded as the
/// recorder decodes a sample.
final class PythonChainBreakTests: XCTestCase {
    /// The last frame's `previous` points back at the first: a loop.
    func testACycleEndsTheWalkWithOneAnnotation() throws {
        for (label, image, layout) in try PythonWalkerTests.recordedImages() {
            let frames = try Self.frameChain(image, layout: layout)
            guard frames.count >= 2 else { continue }
            let memory = PatchedMemory(ImageMemory(image.segments),
                                       [frames.last! + UInt64(layout.framePrevious): frames[0]])
            let (status, decoded) = try Self.walkAndDecode(image, layout: layout, memory: memory)
            XCTAssertEqual(status, PYRO_PYTHON_CHAIN_CYCLE, label)
            XCTAssertLessThanOrEqual(decoded.count, 4 * frames.count + 2, "\(label): walked the loop round and round")
            XCTAssertEqual(decoded.last, .annotation(.pythonChainBroken(.cycle)), label)
            XCTAssertEqual(decoded.filter(\.isAnnotation).count, 1, "\(label): \(decoded)")
        }
    }

    /// A frame that is its own caller.
    func testAFrameThatIsItsOwnCallerIsACycle() throws {
        for (label, image, layout) in try PythonWalkerTests.recordedImages() {
            let frames = try Self.frameChain(image, layout: layout)
            let memory = PatchedMemory(ImageMemory(image.segments), [frames[0] + UInt64(layout.framePrevious): frames[0]])
            let (status, decoded) = try Self.walkAndDecode(image, layout: layout, memory: memory)
            XCTAssertEqual(status, PYRO_PYTHON_CHAIN_CYCLE, label)
            XCTAssertLessThanOrEqual(decoded.count, 4, "\(label): \(decoded)")
        }
    }

    /// `previous` points outside the process's memory: the frames before
    /// stay, then one read-fault annotation.
    func testAPointerOutsideTheProcessEndsTheWalk() throws {
        for (label, image, layout) in try PythonWalkerTests.recordedImages() {
            let frames = try Self.frameChain(image, layout: layout)
            let memory = PatchedMemory(ImageMemory(image.segments),
                                       [frames[0] + UInt64(layout.framePrevious): 0x7ead_beef_0000])
            let (status, decoded) = try Self.walkAndDecode(image, layout: layout, memory: memory)
            XCTAssertEqual(status, PYRO_PYTHON_READ_FAULT, label)
            XCTAssertEqual(decoded.last, .annotation(.pythonStackReadFault), label)
            XCTAssertEqual(decoded.filter(\.isAnnotation).count, 1, "\(label): \(decoded)")
        }
    }

    /// A misaligned `previous`, which no interpreter allocates.
    func testAMisalignedFrameEndsTheWalk() throws {
        for (label, image, layout) in try PythonWalkerTests.recordedImages() {
            let frames = try Self.frameChain(image, layout: layout)
            let memory = PatchedMemory(ImageMemory(image.segments),
                                       [frames[0] + UInt64(layout.framePrevious): frames[0] + 3])
            let (status, decoded) = try Self.walkAndDecode(image, layout: layout, memory: memory)
            XCTAssertEqual(status, PYRO_PYTHON_CHAIN_MISALIGNED, label)
            XCTAssertEqual(decoded.last, .annotation(.pythonChainBroken(.misalignedFrame)), label)
        }
    }

    /// A frame's code is readable memory that is not a code object (here
    /// the frame itself): the walk ends there, instead of emitting it and
    /// every garbage frame after it as "python frame unreadable".
    ///
    /// The images hold no code object's ob_type (the recorder never read
    /// it), so each frame's code object is given the type PyCode_Type
    /// stands for here; the live walker tests check the real one.
    func testAFrameWhoseCodeIsNotACodeObjectEndsTheWalk() throws {
        var tested = 0
        let codeType: UInt64 = 0x7f00_c0de_7e00
        for (label, image, layout) in try PythonWalkerTests.recordedImages() {
            let frames = try Self.frameChain(image, layout: layout)
            guard frames.count >= 3 else { continue }
            let base = ImageMemory(image.segments)
            var typed: [UInt64: UInt64] = [:]
            for frame in frames {
                guard let executable = base.load(UInt64.self, at: frame + UInt64(layout.frameCode)) else { continue }
                typed[(executable & ~layout.frameExecutableTagBits) + UInt64(layout.objects.objectType)] = codeType
            }
            let intact = try Self.walkAndDecode(image, layout: layout, memory: PatchedMemory(base, typed), codeType: codeType)
            XCTAssertEqual(intact.status, PYRO_PYTHON_OK, "\(label): the type check refused a real stack")
            XCTAssertFalse(intact.frames.contains(where: \.isAnnotation), label)
            // Every frame past the first: its code is the frame itself.
            var corrupted = typed
            for frame in frames.dropFirst() { corrupted[frame + UInt64(layout.frameCode)] = frame }
            let memory = PatchedMemory(base, corrupted)
            let (status, decoded) = try Self.walkAndDecode(image, layout: layout, memory: memory, codeType: codeType)
            XCTAssertEqual(status, PYRO_PYTHON_CHAIN_NOT_CODE, label)
            XCTAssertEqual(decoded.last, .annotation(.pythonChainBroken(.notACodeObject)), label)
            XCTAssertEqual(decoded.filter(\.isAnnotation).count, 1, "\(label): \(decoded)")
            XCTAssertFalse(decoded.contains(.annotation(.pythonFrameUnreadable)), label)
            tested += 1
        }
        XCTAssertGreaterThan(tested, 5, "images whose code objects' types were recorded")
    }

    // MARK: - Support

    /// The addresses of the sampled thread's frames, innermost first, read
    /// as the walker reads them.
    static func frameChain(_ image: WalkerImage, layout: PythonLayout) throws -> [UInt64] {
        let memory = ImageMemory(image.segments)
        let sample = PythonWalkerTests.walk(image, layout: layout, memory: memory, steps: .whole)
        sample.deallocate()
        let process = PythonProcess(pid: 0, version: PythonVersion(string: image.version), buildKind: .shared,
                                    interpreterPath: "", layout: layout, interpreterHeadAddress: image.interpreterHeadAddress)
        var encoded = pyro_python_layout(process, layout)
        let box = Unmanaged.passRetained(memory as AnyObject)
        defer { box.release() }
        let threadState: UInt64 = withUnsafePointer(to: &encoded) { layout in
            var walker = pyro_python_walker(layout: layout, read: { context, destination, size, address in
                let reader = Unmanaged<AnyObject>.fromOpaque(context!).takeUnretainedValue() as! MemoryReader
                return reader.read(address, into: UnsafeMutableRawBufferPointer(start: destination, count: Int(size))) ? 0 : -14
            }, read_context: box.toOpaque())
            var fault = false
            return pyro_python_find_thread_state(&walker, image.threadID, &fault)
        }
        var frame = try XCTUnwrap(memory.load(UInt64.self, at: threadState + UInt64(layout.threadFrame)), image.label)
        if let cframe = layout.cframeCurrentFrame {
            frame = try XCTUnwrap(memory.load(UInt64.self, at: frame + UInt64(cframe)), image.label)
        }
        var chain: [UInt64] = []
        while frame != 0 && chain.count < Int(PYRO_MAX_PYTHON_FRAMES) {
            chain.append(frame)
            frame = try XCTUnwrap(memory.load(UInt64.self, at: frame + UInt64(layout.framePrevious)), image.label)
        }
        XCTAssertGreaterThan(chain.count, 0, image.label)
        return chain
    }

    /// The walk's status and its Python frames as the recorder decodes
    /// them, innermost first.
    static func walkAndDecode(_ image: WalkerImage, layout: PythonLayout, memory: MemoryReader,
                              codeType: UInt64? = nil) throws -> (status: pyro_python_status, frames: [Frame]) {
        let sample = PythonWalkerTests.walk(image, layout: layout, memory: memory, codeType: codeType)
        defer { sample.deallocate() }
        sample.pointee.origin = PYRO_ORIGIN_ON_CPU.rawValue
        let raw = try XCTUnwrap(RawSample(UnsafeRawBufferPointer(start: sample, count: MemoryLayout<pyro_sample>.size)))
        var process = PythonProcess(pid: 0, version: PythonVersion(string: image.version), buildKind: .shared,
                                    interpreterPath: "", layout: layout, interpreterHeadAddress: image.interpreterHeadAddress)
        process.codeTypeAddress = codeType
        let symbolizer = PythonSymbolizer(process: process, memory: memory)
        let frames = StackSymbolizer().pythonInvocations(raw, symbolizer).flatMap { $0 }
        return (raw.pythonStatus, frames)
    }
}

/// A memory image with some words overwritten or added.
private final class PatchedMemory: MemoryReader {
    private let base: MemoryReader
    private let words: [UInt64: UInt64]

    init(_ base: MemoryReader, _ words: [UInt64: UInt64]) {
        self.base = base
        self.words = words
    }

    func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        let end = address + UInt64(buffer.count)
        if !base.read(address, into: buffer) {
            // Only a read that added words cover entirely.
            guard buffer.count == 8, words[address] != nil else { return false }
        }
        for (at, value) in words where at < end && at + 8 > address {
            withUnsafeBytes(of: value.littleEndian) { bytes in
                for (index, byte) in bytes.enumerated() where at + UInt64(index) >= address && at + UInt64(index) < end {
                    buffer[Int(at + UInt64(index) - address)] = byte
                }
            }
        }
        return true
    }
}

private extension Frame {
    var isAnnotation: Bool { kind == .annotation }
}
