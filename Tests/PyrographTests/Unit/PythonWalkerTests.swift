import CPyrograph
import CPythonWalker
import Foundation
import ProcessInspection
@testable import PythonRuntime
@testable import Recording
import XCTest

/// The BPF Python walker's own C code, compiled for the host, walking real
/// interpreters: live (as root), and replayed from recorded memory images
/// (no root), so a layout or walker bug shows anywhere the tests run.
/// `RECORD_WALKER_IMAGES=1` rewrites the images from live processes.
final class PythonWalkerTests: XCTestCase {
    static var imageDirectory: URL { TestSupport.fixtures.appendingPathComponent("walker-images") }

    /// No root: layouts come from the product's tables (or, for 3.13, from
    /// the recorded _Py_DebugOffsets), memory from the recorded image.
    func testWalkerOnRecordedImages() throws {
        let files = try FileManager.default.contentsOfDirectory(at: Self.imageDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
        XCTAssertEqual(files.count, PythonInterpreters.all.count + PythonInterpreters.debian.count,
                       "one image per interpreter in \(Self.imageDirectory.path)")
        for file in files {
            let image = try JSONDecoder().decode(WalkerImage.self, from: Data(contentsOf: file))
            let memory = ImageMemory(image.segments)
            let version = try XCTUnwrap(PythonVersion(string: image.version))
            var layout = PythonLayoutTable.layout(for: version)
            if layout == nil, case .layout(let read, _)? = PythonRuntimeFamilyTests.debugOffsetsFamilyResolution(image) {
                layout = read
            }
            let frames = try Self.walkAndName(image, layout: try XCTUnwrap(layout, image.label), memory: memory)
            XCTAssertEqual(frames, image.expected, "\(image.label): replayed walk differs from the interpreter's own stack: "
                + Self.firstDifference(frames, image.expected))
        }
    }

    /// A fault in the middle of the chain is reported as such, not as a
    /// shorter stack.
    func testWalkerReportsAReadFaultInsteadOfAShortStack() throws {
        let file = Self.imageDirectory.appendingPathComponent("3.12.json")
        let image = try JSONDecoder().decode(WalkerImage.self, from: Data(contentsOf: file))
        var segments = image.segments
        segments.removeLast(segments.count / 2)
        let layout = try XCTUnwrap(PythonLayoutTable.layout(for: PythonVersion(major: 3, minor: 12, micro: 1)))
        let sample = Self.walk(image, layout: layout, memory: ImageMemory(segments))
        XCTAssertNotEqual(sample.pointee.python_status, PYRO_PYTHON_OK.rawValue)
        sample.deallocate()
    }

    /// The two steps the sampler takes in one go, taken one by one: finding
    /// the thread state, then walking from it, yield the same frames.
    func testFindingTheThreadStateThenWalkingFromItIsTheWholeWalk() throws {
        for (label, image, layout) in try Self.recordedImages() {
            let memory = ImageMemory(image.segments)
            let whole = Self.walk(image, layout: layout, memory: memory)
            let split = Self.walk(image, layout: layout, memory: memory, steps: .split)
            defer { whole.deallocate(); split.deallocate() }
            XCTAssertEqual(split.pointee.python_status, PYRO_PYTHON_OK.rawValue, label)
            XCTAssertEqual(split.pointee.python_frame_count, whole.pointee.python_frame_count, label)
            XCTAssertGreaterThan(split.pointee.python_frame_count, 0, label)
            let equal = withUnsafeBytes(of: &whole.pointee.stacks) { a in
                withUnsafeBytes(of: &split.pointee.stacks) { b in a.elementsEqual(b) }
            }
            XCTAssertTrue(equal, "\(label): the frames differ")
        }
    }

    /// 3.14+ frames hold their code object as a _PyStackRef whose low bits
    /// may be tags (CPython sets them for deferred and immortal objects;
    /// Debian's GIL builds leave a code object's clear in practice, so only
    /// an image shows this): with every executable tagged, the walk names
    /// the same stack.
    func testTaggedExecutablesAreUntagged() throws {
        var tested = 0
        for (label, image, layout) in try Self.recordedImages() where layout.frameExecutableTagBits != 0 {
            let plain = Self.walk(image, layout: layout, memory: ImageMemory(image.segments))
            let count = Int(plain.pointee.python_frame_count)
            let codes: Set<UInt64> = withUnsafeBytes(of: &plain.pointee.stacks) { raw in
                Set(raw.bindMemory(to: pyro_python_frame.self).prefix(count).map(\.code).filter { $0 != 0 })
            }
            plain.deallocate()
            var tagged = image
            var words = 0
            tagged.segments = image.segments.map { segment in
                var bytes = ImageMemory.bytes(fromHex: segment.hex)
                var offset = Int((8 - segment.address % 8) % 8)
                while offset + 8 <= bytes.count {
                    let word = bytes[offset..<offset + 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
                    if codes.contains(word) {
                        bytes[offset] |= 1
                        words += 1
                    }
                    offset += 8
                }
                return WalkerImage.Segment(address: segment.address, hex: RecordingMemory.hex(bytes))
            }
            XCTAssertGreaterThanOrEqual(words, codes.count, "\(label): every frame's executable tagged")
            let frames = try Self.walkAndName(tagged, layout: layout, memory: ImageMemory(tagged.segments))
            XCTAssertEqual(frames, image.expected, "\(label): tagged executables: " + Self.firstDifference(frames, image.expected))
            tested += 1
        }
        XCTAssertGreaterThan(tested, 0, "no recorded image of a 3.14+ interpreter")
    }

    /// The recorded images with the layout each is walked with.
    static func recordedImages() throws -> [(label: String, image: WalkerImage, layout: PythonLayout)] {
        let files = try FileManager.default.contentsOfDirectory(at: imageDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
        return try files.map { file in
            let image = try JSONDecoder().decode(WalkerImage.self, from: Data(contentsOf: file))
            let memory = ImageMemory(image.segments)
            let version = try XCTUnwrap(PythonVersion(string: image.version))
            var layout = PythonLayoutTable.layout(for: version)
            if layout == nil, case .layout(let read, _)? = PythonRuntimeFamilyTests.debugOffsetsFamilyResolution(image) {
                layout = read
            }
            return (image.label, image, try XCTUnwrap(layout, image.label))
        }
    }

    static func firstDifference(_ a: [StackEntry], _ b: [StackEntry]) -> String {
        for (index, (x, y)) in zip(a, b).enumerated() where x != y {
            return "frame \(index): \(x) vs \(y)"
        }
        return "\(a.count) vs \(b.count) frames"
    }

    // MARK: - Running the walker

    static func walkAndName(_ image: WalkerImage, layout: PythonLayout, memory: MemoryReader,
                            codeType: UInt64? = nil) throws -> [StackEntry] {
        let sample = Self.walk(image, layout: layout, memory: memory, codeType: codeType)
        defer { sample.deallocate() }
        XCTAssertEqual(sample.pointee.python_status, PYRO_PYTHON_OK.rawValue, "\(image.label): walk status")
        let count = Int(sample.pointee.python_frame_count)
        // Nothing precedes the Python frames: the harness sample has no pcs.
        let records: [pyro_python_frame] = withUnsafeBytes(of: &sample.pointee.stacks) { raw in
            Array(raw.bindMemory(to: pyro_python_frame.self).prefix(count))
        }
        let process = PythonProcess(pid: 0, version: PythonVersion(string: image.version), buildKind: .shared,
                                    interpreterPath: "", layout: layout, interpreterHeadAddress: image.interpreterHeadAddress)
        let symbolizer = PythonSymbolizer(process: process, memory: memory)
        return records.reversed().filter { $0.code != 0 }.map { record in
            let frame = symbolizer.frame(code: record.code, instruction: record.instruction, stamp: record.stamp)
            return StackEntry(name: frame?.name ?? "?", file: frame?.filename ?? "?", line: frame?.line ?? -1)
        }
    }

    enum Steps {
        /// pyro_python_walk_thread, as the sampler walks a sampled thread.
        case whole
        /// Find the thread state, then walk from it, as `dump` will.
        case split
    }

    static func walk(_ image: WalkerImage, layout: PythonLayout, memory: MemoryReader,
                      steps: Steps = .whole, codeType: UInt64? = nil) -> UnsafeMutablePointer<pyro_sample> {
        var process = PythonProcess(pid: 0, version: PythonVersion(string: image.version), buildKind: .shared,
                                    interpreterPath: "", layout: layout, interpreterHeadAddress: image.interpreterHeadAddress)
        process.codeTypeAddress = codeType
        var encoded = pyro_python_layout(process, layout)
        let sample = UnsafeMutablePointer<pyro_sample>.allocate(capacity: 1)
        sample.initialize(to: pyro_sample())
        let box = Unmanaged.passRetained(ReaderBox(memory))
        defer { box.release() }
        withUnsafePointer(to: &encoded) { layout in
            var walker = pyro_python_walker(layout: layout, read: { context, destination, size, address in
                let reader = Unmanaged<ReaderBox>.fromOpaque(context!).takeUnretainedValue().memory
                return reader.read(address, into: UnsafeMutableRawBufferPointer(start: destination, count: Int(size))) ? 0 : -14
            }, read_context: box.toOpaque())
            switch steps {
            case .whole:
                _ = pyro_python_walk_thread(&walker, image.threadID, sample)
            case .split:
                var fault = false
                let threadState = pyro_python_find_thread_state(&walker, image.threadID, &fault)
                XCTAssertNotEqual(threadState, 0, "\(image.label): thread state not found")
                XCTAssertFalse(fault, image.label)
                _ = pyro_python_walk_thread_state(&walker, threadState, sample)
            }
        }
        return sample
    }
}

private final class ReaderBox {
    let memory: MemoryReader
    init(_ memory: MemoryReader) { self.memory = memory }
}

struct StackEntry: Codable, Equatable, CustomStringConvertible {
    var name: String
    var file: String
    var line: Int
    var description: String { "\(name) (\(file):\(line))" }
}

struct TargetReport: Decodable {
    var thread_id: UInt64
    var tid: Int32
    var stack: [StackEntry]
}

/// A recorded memory image: the bytes the walker and symbolizer read.
struct WalkerImage: Codable {
    struct Segment: Codable {
        var address: UInt64
        var hex: String
    }

    var label: String
    var version: String
    var interpreterHeadAddress: UInt64
    var tid: Int32
    var threadID: UInt64
    var expected: [StackEntry]
    var segments: [Segment]
    /// `_PyRuntime`, where `_Py_DebugOffsets` starts (3.13+); older images
    /// lack it and are 3.13's, whose list head is 632 bytes in.
    var runtimeAddress: UInt64?
}

/// Reads a live process and remembers every byte it read.
final class RecordingMemory: MemoryReader {
    private let live: MemoryReader
    private var recorded: [UInt64: UInt8] = [:]

    init(live: MemoryReader) { self.live = live }

    func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard live.read(address, into: buffer) else { return false }
        for (offset, byte) in buffer.enumerated() { recorded[address + UInt64(offset)] = byte }
        return true
    }

    /// Contiguous runs of recorded bytes.
    func segments() -> [WalkerImage.Segment] {
        var result: [WalkerImage.Segment] = []
        var start: UInt64 = 0
        var bytes: [UInt8] = []
        for address in recorded.keys.sorted() {
            if !bytes.isEmpty && address != start + UInt64(bytes.count) {
                result.append(.init(address: start, hex: Self.hex(bytes)))
                bytes = []
            }
            if bytes.isEmpty { start = address }
            bytes.append(recorded[address]!)
        }
        if !bytes.isEmpty { result.append(.init(address: start, hex: Self.hex(bytes))) }
        return result
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }
}

/// Serves reads from a recorded image; anything not recorded faults.
final class ImageMemory: MemoryReader {
    private let segments: [(start: UInt64, bytes: [UInt8])]

    init(_ segments: [WalkerImage.Segment]) {
        self.segments = segments.map { ($0.address, ImageMemory.bytes(fromHex: $0.hex)) }.sorted { $0.start < $1.start }
    }

    static func bytes(fromHex hex: String) -> [UInt8] {
        let chars = Array(hex.utf8)
        func value(_ c: UInt8) -> UInt8 { c >= 97 ? c - 87 : c - 48 }
        return stride(from: 0, to: chars.count, by: 2).map { value(chars[$0]) << 4 | value(chars[$0 + 1]) }
    }

    func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard let segment = segments.last(where: { $0.start <= address }),
              address - segment.start + UInt64(buffer.count) <= UInt64(segment.bytes.count) else { return false }
        let offset = Int(address - segment.start)
        segment.bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + buffer.count])) }
        return true
    }
}
