import CPyrograph
import Foundation
import XCTest

/// The shared-struct layout from both sides: what clang laid out for the BPF
/// programs (read back from the object's BTF) against what Swift imported
/// from the same header. Every BTF member must be listed here, so a field
/// added to pyrograph_abi.h without updating this test fails it.
final class ABILayoutTests: XCTestCase {
    struct SwiftMember: Equatable {
        var offset: Int?
        var size: Int
    }

    struct SwiftStruct {
        var size: Int
        var stride: Int
        var members: [String: SwiftMember]
    }

    static func member<T, V>(_ path: KeyPath<T, V>) -> SwiftMember {
        SwiftMember(offset: MemoryLayout<T>.offset(of: path), size: MemoryLayout<V>.size)
    }

    static func layout<T>(_ type: T.Type, _ members: [String: SwiftMember]) -> SwiftStruct {
        SwiftStruct(size: MemoryLayout<T>.size, stride: MemoryLayout<T>.stride, members: members)
    }

    static let swiftStructs: [String: SwiftStruct] = [
        "pyro_sample": layout(pyro_sample.self, [
            "kind": member(\pyro_sample.kind),
            "pid": member(\pyro_sample.pid),
            "tid": member(\pyro_sample.tid),
            "cpu": member(\pyro_sample.cpu),
            "timestamp_ns": member(\pyro_sample.timestamp_ns),
            "weight_ns": member(\pyro_sample.weight_ns),
            "process_comm": member(\pyro_sample.process_comm),
            "thread_comm": member(\pyro_sample.thread_comm),
            "kernel_stack_bytes": member(\pyro_sample.kernel_stack_bytes),
            "user_stack_bytes": member(\pyro_sample.user_stack_bytes),
            "native_status": member(\pyro_sample.native_status),
            "python_status": member(\pyro_sample.python_status),
            "python_frame_count": member(\pyro_sample.python_frame_count),
            "origin": member(\pyro_sample.origin),
            "off_cpu_state": member(\pyro_sample.off_cpu_state),
            "gil_state": member(\pyro_sample.gil_state),
            "stacks": member(\pyro_sample.stacks),
        ]),
        "pyro_python_frame": layout(pyro_python_frame.self, [
            "code": member(\pyro_python_frame.code),
            "instruction": member(\pyro_python_frame.instruction),
            "stamp": member(\pyro_python_frame.stamp),
        ]),
        "pyro_python_layout": layout(pyro_python_layout.self, [
            "interpreter_head_address": member(\pyro_python_layout.interpreter_head_address),
            "version_hex": member(\pyro_python_layout.version_hex),
            "interpreter_threads_head": member(\pyro_python_layout.interpreter_threads_head),
            "thread_next": member(\pyro_python_layout.thread_next),
            "thread_id": member(\pyro_python_layout.thread_id),
            "thread_frame": member(\pyro_python_layout.thread_frame),
            "cframe_current_frame": member(\pyro_python_layout.cframe_current_frame),
            "frame_previous": member(\pyro_python_layout.frame_previous),
            "frame_code": member(\pyro_python_layout.frame_code),
            "frame_instruction": member(\pyro_python_layout.frame_instruction),
            "frame_is_entry": member(\pyro_python_layout.frame_is_entry),
            "frame_owner": member(\pyro_python_layout.frame_owner),
            "code_stamp": member(\pyro_python_layout.code_stamp),
            "code_adaptive": member(\pyro_python_layout.code_adaptive),
            "instruction_is_pointer": member(\pyro_python_layout.instruction_is_pointer),
            "stamp_is_version": member(\pyro_python_layout.stamp_is_version),
            "frame_window": member(\pyro_python_layout.frame_window),
            "executable_tag_bits": member(\pyro_python_layout.executable_tag_bits),
            "frame_tlbc_index": member(\pyro_python_layout.frame_tlbc_index),
            "code_tlbc": member(\pyro_python_layout.code_tlbc),
            "reserved2": member(\pyro_python_layout.reserved2),
            "gil_address": member(\pyro_python_layout.gil_address),
            "interpreter_gil": member(\pyro_python_layout.interpreter_gil),
            "gil_locked": member(\pyro_python_layout.gil_locked),
            "gil_last_holder": member(\pyro_python_layout.gil_last_holder),
            "gil_size": member(\pyro_python_layout.gil_size),
            "object_type": member(\pyro_python_layout.object_type),
            "code_type_address": member(\pyro_python_layout.code_type_address),
            "code_filename": member(\pyro_python_layout.code_filename),
            "code_name": member(\pyro_python_layout.code_name),
            "code_line_table": member(\pyro_python_layout.code_line_table),
            "code_capture_bytes": member(\pyro_python_layout.code_capture_bytes),
        ]),
        "pyro_unwind_row": layout(pyro_unwind_row.self, [
            "pc": member(\pyro_unwind_row.pc),
            "cfa_rule": member(\pyro_unwind_row.cfa_rule),
            "rbp_rule": member(\pyro_unwind_row.rbp_rule),
            "cfa_offset": member(\pyro_unwind_row.cfa_offset),
            "rbp_offset": member(\pyro_unwind_row.rbp_offset),
            "flags": member(\pyro_unwind_row.flags),
        ]),
        "pyro_unwind_mapping": layout(pyro_unwind_mapping.self, [
            "start": member(\pyro_unwind_mapping.start),
            "end": member(\pyro_unwind_mapping.end),
            "bias": member(\pyro_unwind_mapping.bias),
            "table_start": member(\pyro_unwind_mapping.table_start),
            "table_count": member(\pyro_unwind_mapping.table_count),
            "pages_start": member(\pyro_unwind_mapping.pages_start),
            "page_count": member(\pyro_unwind_mapping.page_count),
            "first_page_pc": member(\pyro_unwind_mapping.first_page_pc),
            "reserved": member(\pyro_unwind_mapping.reserved),
        ]),
        "pyro_unwind_page": layout(pyro_unwind_page.self, [
            "first_row": member(\pyro_unwind_page.first_row),
            "end_row": member(\pyro_unwind_page.end_row),
        ]),
        "pyro_unwind_process": layout(pyro_unwind_process.self, [
            "count": member(\pyro_unwind_process.count),
            "reserved": member(\pyro_unwind_process.reserved),
            "mappings": member(\pyro_unwind_process.mappings),
        ]),
        "pyro_process_exit": layout(pyro_process_exit.self, [
            "kind": member(\pyro_process_exit.kind),
            "pid": member(\pyro_process_exit.pid),
            "timestamp_ns": member(\pyro_process_exit.timestamp_ns),
        ]),
        "pyro_process_exec": layout(pyro_process_exec.self, [
            "kind": member(\pyro_process_exec.kind),
            "pid": member(\pyro_process_exec.pid),
            "timestamp_ns": member(\pyro_process_exec.timestamp_ns),
        ]),
        "pyro_off_cpu_end": layout(pyro_off_cpu_end.self, [
            "kind": member(\pyro_off_cpu_end.kind),
            "tid": member(\pyro_off_cpu_end.tid),
            "start_ns": member(\pyro_off_cpu_end.start_ns),
            "end_ns": member(\pyro_off_cpu_end.end_ns),
        ]),
        "pyro_python_started": layout(pyro_python_started.self, [
            "kind": member(\pyro_python_started.kind),
            "pid": member(\pyro_python_started.pid),
            "timestamp_ns": member(\pyro_python_started.timestamp_ns),
        ]),
        "pyro_python_template": layout(pyro_python_template.self, [
            "layout": member(\pyro_python_template.layout),
            "probe_address": member(\pyro_python_template.probe_address),
        ]),
        "pyro_code_capture": layout(pyro_code_capture.self, [
            "kind": member(\pyro_code_capture.kind),
            "pid": member(\pyro_code_capture.pid),
            "code": member(\pyro_code_capture.code),
            "filename": member(\pyro_code_capture.filename),
            "name": member(\pyro_code_capture.name),
            "line_table": member(\pyro_code_capture.line_table),
            "stamp": member(\pyro_code_capture.stamp),
            "code_size": member(\pyro_code_capture.code_size),
            "filename_size": member(\pyro_code_capture.filename_size),
            "name_size": member(\pyro_code_capture.name_size),
            "line_table_size": member(\pyro_code_capture.line_table_size),
            "reserved": member(\pyro_code_capture.reserved),
            "code_bytes": member(\pyro_code_capture.code_bytes),
            "filename_bytes": member(\pyro_code_capture.filename_bytes),
            "name_bytes": member(\pyro_code_capture.name_bytes),
            "line_table_bytes": member(\pyro_code_capture.line_table_bytes),
        ]),
        "pyro_mapping_added": layout(pyro_mapping_added.self, [
            "kind": member(\pyro_mapping_added.kind),
            "pid": member(\pyro_mapping_added.pid),
            "timestamp_ns": member(\pyro_mapping_added.timestamp_ns),
        ]),
    ]

    func testSharedStructsMatchBTF() throws {
        let btf = try Self.loadBTF()
        for (name, swift) in Self.swiftStructs.sorted(by: { $0.key < $1.key }) {
            guard let structure = btf.structs[name] else {
                XCTFail("struct \(name) is not in the BPF object's BTF: is it still referenced by bpf/*.c?")
                continue
            }
            XCTAssertEqual(structure.size, swift.size, "sizeof(struct \(name)): BPF vs Swift")
            XCTAssertEqual(Set(structure.members.map(\.name)), Set(swift.members.keys),
                           "members of \(name): BTF vs this test's list (update the list when the header changes)")
            for field in structure.members {
                guard let expected = swift.members[field.name] else {
                    XCTFail("\(name).\(field.name) is in BTF but not in ABILayoutTests: add it")
                    continue
                }
                XCTAssertNil(field.bitfieldSize, "\(name).\(field.name) must not be a bitfield")
                XCTAssertEqual(field.bitsOffset % 8, 0, "\(name).\(field.name)")
                XCTAssertEqual(field.bitsOffset / 8, expected.offset, "offsetof(\(name), \(field.name)): BPF vs Swift")
                XCTAssertEqual(btf.size(of: field.typeID), expected.size, "sizeof(\(name).\(field.name)): BPF vs Swift")
            }
        }
    }

    /// A new shared struct must be added to the list above too.
    func testEverySharedStructIsChecked() throws {
        let shared = try Self.loadBTF().structs.keys.filter { $0.hasPrefix("pyro_") }
        for name in shared.sorted() where Self.swiftStructs[name] == nil {
            XCTFail("struct \(name) is in the BPF object's BTF but not in ABILayoutTests.swiftStructs: add it")
        }
        for name in ["pyro_sample", "pyro_python_frame", "pyro_python_layout", "pyro_process_exit", "pyro_process_exec",
                     "pyro_mapping_added", "pyro_off_cpu_end", "pyro_python_started", "pyro_python_template",
                     "pyro_code_capture"] {
            XCTAssertTrue(shared.contains(name), "\(name) missing from BTF")
        }
    }

    /// The stacks are packed into the last member, Python frames two words
    /// each, and only a prefix of the record is sent.
    func testStacksArePackedAtTheEnd() throws {
        let frame = try XCTUnwrap(Self.swiftStructs["pyro_python_frame"])
        XCTAssertEqual(frame.stride, frame.size)
        XCTAssertEqual(frame.size, 8 * Int(PYRO_PYTHON_FRAME_WORDS), "a Python frame takes PYRO_PYTHON_FRAME_WORDS words")
        let btf = try Self.loadBTF()
        let sample = try XCTUnwrap(btf.structs["pyro_sample"])
        let stacks = try XCTUnwrap(sample.members.last, "pyro_sample has members")
        XCTAssertEqual(stacks.name, "stacks", "the stacks must be the last member: only a prefix is sent")
        let capacity = Int(PYRO_MAX_KERNEL_FRAMES + PYRO_MAX_USER_FRAMES) * 8 + Int(PYRO_MAX_PYTHON_FRAMES) * frame.size
        XCTAssertEqual(btf.size(of: stacks.typeID), capacity)
        XCTAssertEqual(sample.size, stacks.bitsOffset / 8 + capacity, "nothing follows the stacks")
        XCTAssertEqual(MemoryLayout.size(ofValue: pyro_sample().stacks), capacity)
    }

    /// Where each stack starts, as the BPF programs, the walkers and the
    /// decoder all compute it: after the words of the stacks before it,
    /// each bounded by its capacity; a failed capture takes no words.
    func testStackPackingHelpers() {
        let kernelMax = UInt32(PYRO_MAX_KERNEL_FRAMES), userMax = UInt32(PYRO_MAX_USER_FRAMES)
        let pythonMax = UInt32(PYRO_MAX_PYTHON_FRAMES), frameWords = UInt32(PYRO_PYTHON_FRAME_WORDS)
        func bytes(_ words: UInt32) -> Int32 { Int32(words) * 8 }
        XCTAssertEqual(pyro_user_stack_first_word(bytes(3)), 3)
        XCTAssertEqual(pyro_user_stack_first_word(-14), 0)
        XCTAssertEqual(pyro_user_stack_first_word(bytes(kernelMax + 5)), kernelMax)
        XCTAssertEqual(pyro_python_first_word(bytes(3), bytes(5)), 8)
        XCTAssertEqual(pyro_python_first_word(bytes(3), -14), 3)
        XCTAssertEqual(pyro_python_first_word(-14, bytes(5)), 5)
        XCTAssertEqual(pyro_python_first_word(bytes(kernelMax), bytes(userMax + 9)), kernelMax + userMax)
        XCTAssertEqual(pyro_sample_used_words(bytes(3), bytes(5), 4), 8 + 4 * frameWords)
        let full = pyro_sample_used_words(bytes(kernelMax), bytes(userMax), pythonMax + 1)
        XCTAssertEqual(Int(full) * 8, MemoryLayout.size(ofValue: pyro_sample().stacks), "a full record fills the array")
    }

    // MARK: BTF

    struct BTFMember {
        var name: String
        var typeID: Int
        var bitsOffset: Int
        var bitfieldSize: Int?
    }

    struct BTFStruct {
        var size: Int
        var members: [BTFMember]
    }

    /// The subset of `bpftool btf dump format raw` needed for sizes.
    struct BTF {
        enum Kind {
            case sized(Int)                 // INT, STRUCT, UNION, ENUM, ENUM64, FLOAT
            case pointer
            case alias(Int)                 // TYPEDEF, CONST, VOLATILE, RESTRICT, TYPE_TAG
            case array(element: Int, count: Int)
            case unsized
        }

        var kinds: [Int: Kind] = [:]
        var structs: [String: BTFStruct] = [:]

        func size(of id: Int) -> Int? {
            var seen = 0
            var current = id
            while seen < 64, let kind = kinds[current] {
                seen += 1
                switch kind {
                case let .sized(size): return size
                case .pointer: return 8
                case let .alias(target): current = target
                case let .array(element, count): return size(of: element).map { $0 * count }
                case .unsized: return nil
                }
            }
            return nil
        }

        init(raw: String) {
            var current: (name: String, size: Int, remaining: Int, members: [BTFMember])?
            for line in raw.split(separator: "\n") {
                if line.hasPrefix("\t") || line.hasPrefix(" ") {
                    guard var open = current, open.remaining > 0 else { continue }
                    if let member = BTF.parseMember(line) {
                        open.members.append(member)
                        open.remaining -= 1
                        current = open
                        if open.remaining == 0 { structs[open.name] = BTFStruct(size: open.size, members: open.members) }
                    }
                    continue
                }
                current = nil
                // [11] STRUCT 'pyro_sample' size=18488 vlen=14
                guard line.hasPrefix("["), let close = line.firstIndex(of: "]"),
                      let id = Int(line[line.index(after: line.startIndex)..<close]) else { continue }
                let words = line[line.index(after: close)...].split(separator: " ")
                guard let kindName = words.first else { continue }
                let attributes = BTF.attributes(words.dropFirst())
                switch kindName {
                case "INT", "UNION", "ENUM", "ENUM64", "FLOAT":
                    kinds[id] = attributes["size"].map(Kind.sized) ?? .unsized
                case "STRUCT":
                    let size = attributes["size"] ?? 0
                    kinds[id] = .sized(size)
                    let name = BTF.quotedName(line)
                    let count = attributes["vlen"] ?? 0
                    if count == 0 {
                        structs[name] = BTFStruct(size: size, members: [])
                    } else {
                        current = (name, size, count, [])
                    }
                case "PTR":
                    kinds[id] = .pointer
                case "TYPEDEF", "CONST", "VOLATILE", "RESTRICT", "TYPE_TAG":
                    kinds[id] = attributes["type_id"].map(Kind.alias) ?? .unsized
                case "ARRAY":
                    if let element = attributes["type_id"], let count = attributes["nr_elems"] {
                        kinds[id] = .array(element: element, count: count)
                    }
                default:
                    kinds[id] = .unsized
                }
            }
        }

        /// `'name' type_id=8 bits_offset=32` (and `bitfield_size=N` for bitfields).
        static func parseMember(_ line: Substring) -> BTFMember? {
            let attributes = BTF.attributes(line.split(whereSeparator: { $0 == " " || $0 == "\t" }))
            guard let typeID = attributes["type_id"], let offset = attributes["bits_offset"] else { return nil }
            return BTFMember(name: quotedName(line), typeID: typeID, bitsOffset: offset, bitfieldSize: attributes["bitfield_size"])
        }

        static func quotedName(_ line: Substring) -> String {
            guard let open = line.firstIndex(of: "'") else { return "" }
            let rest = line[line.index(after: open)...]
            return String(rest.prefix(while: { $0 != "'" }))
        }

        static func attributes<S: Sequence>(_ words: S) -> [String: Int] where S.Element == Substring {
            var result: [String: Int] = [:]
            for word in words {
                let parts = word.split(separator: "=", maxSplits: 1)
                if parts.count == 2, let value = Int(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: ","))) {
                    result[String(parts[0])] = value
                }
            }
            return result
        }
    }

    static func bpfObjectPath() throws -> String {
        let path = ProcessInfo.processInfo.environment["PYROGRAPH_BPF_OBJECT"]
            ?? TestSupport.packageRoot.appendingPathComponent(".build/bpf/pyrograph.bpf.o").path
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("BPF object not found at \(path): build it with `make bpf` (or run the tests with `make test`)")
            throw CancellationError()
        }
        return path
    }

    static func loadBTF() throws -> BTF {
        let object = try bpfObjectPath()
        let bpftool = ["/usr/sbin/bpftool", "/sbin/bpftool", "/usr/bin/bpftool"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let bpftool else {
            XCTFail("bpftool not found: install it with `make deps`")
            throw CancellationError()
        }
        let dump = try TestSupport.run(bpftool, ["btf", "dump", "file", object, "format", "raw"])
        guard dump.status == 0 else {
            XCTFail("bpftool btf dump \(object) failed: \(dump.stderr)")
            throw CancellationError()
        }
        let btf = BTF(raw: dump.stdout)
        XCTAssertFalse(btf.structs.isEmpty, "no structs parsed from bpftool's output")
        return btf
    }
}
