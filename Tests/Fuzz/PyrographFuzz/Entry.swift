import Glibc

/// One fuzz target per input kind, picked by PYROGRAPH_FUZZ_TARGET:
/// `elf`, `cfi`, `linetable`, `record`, `walker` (see each file for its
/// input format). Built with `--sanitize=fuzzer` (PYROGRAPH_LIBFUZZER set
/// by Package.swift) libFuzzer drives it; built plainly it replays the files
/// named on the command line, so a crash reproduces in any build.
enum FuzzTarget: String, CaseIterable {
    case elf, cfi, linetable, record, walker

    static let selected: FuzzTarget = {
        let name = getenv("PYROGRAPH_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            fputs("pyrograph-fuzz: set PYROGRAPH_FUZZ_TARGET to one of: \(names)\n", stderr)
            exit(2)
        }
        return target
    }()

    func run(_ input: UnsafeRawBufferPointer) {
        switch self {
        case .elf: ELFFuzz.run(input)
        case .cfi: CFIFuzz.run(input)
        case .linetable: LineTableFuzz.run(input)
        case .record: RecordFuzz.run(input)
        case .walker: WalkerFuzz.run(input)
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

#if !PYROGRAPH_LIBFUZZER
@main
enum Replay {
    static func main() {
        let target = FuzzTarget.selected
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else {
                fputs("pyrograph-fuzz: cannot open \(path)\n", stderr)
                exit(1)
            }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&chunk, 1, chunk.count, file)
                if count <= 0 { break }
                bytes += chunk[0..<count]
            }
            fclose(file)
            bytes.withUnsafeBytes { target.run($0) }
            print("\(path): ok")
        }
    }
}
#endif

/// Little-endian fields from the front of a fuzz input; missing bytes read as 0.
struct InputCursor {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[min(offset, bytes.count)...])
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T {
        var value: T = 0
        for index in 0..<MemoryLayout<T>.size where offset + index < bytes.count {
            value |= T(truncatingIfNeeded: bytes[offset + index]) << (8 * index)
        }
        offset += MemoryLayout<T>.size
        return value
    }

    mutating func take(_ count: Int) -> [UInt8] {
        let start = min(offset, bytes.count), end = min(start + max(count, 0), bytes.count)
        offset = end
        return Array(bytes[start..<end])
    }
}
