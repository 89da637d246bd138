import Foundation
import Symbolization

/// Finds the parts of a function that a compiler moved out of it and a
/// stripped binary leaves unnamed: GCC's hot/cold partitioning puts a
/// function's unlikely blocks (`F.cold`, a local symbol) in `.text.unlikely`
/// with their own CFI entry. Debian's PGO builds of CPython 3.13 to 3.15 run
/// most of `_PyEval_EvalFrameDefault` in such a part (84 KiB against 1 KiB
/// named), so without it a sample's eval loop has no name.
///
/// The part is the CFI entry (FDE) that the function's direct jumps
/// (`jmp rel32`, `jcc rel32`) land in most often, outside the function and
/// outside every named symbol. The scan reads the function's bytes without
/// decoding instructions: a stray match can only vote for an unnamed FDE,
/// and the part is chosen by most votes, at least `minimumVotes`.
public enum ColdPartLocator {
    static let minimumVotes = 2

    /// Link-time address ranges of `function`'s unnamed parts in the ELF file
    /// at `path` (at most one); empty when it has none or is not found.
    public static func unnamedParts(of function: String, path: String) -> [Range<UInt64>] {
        guard let file = try? ELFFile(path: path),
              let symbol = file.symbols.symbols.first(where: { $0.name == function && $0.size > 0 }),
              let code = bytes(of: file, from: symbol.address, count: Int(symbol.size)),
              let source = try? ELFUnwindSource(path: path)
        else { return [] }
        var fdes: [Range<UInt64>] = []
        for section in source.sections {
            guard let entries = try? section.entries() else { continue }
            fdes += entries.fdes.filter { $0.addressRange > 0 }.map { $0.initialLocation..<$0.endLocation }
        }
        fdes.sort { $0.lowerBound < $1.lowerBound }
        return votedPart(code: code, at: symbol.address, fdes: fdes) { file.symbols.lookup($0) != nil }.map { [$0] } ?? []
    }

    /// The FDE the code's direct jumps out of itself land in most often,
    /// among those whose targets no symbol covers.
    static func votedPart(code: [UInt8], at start: UInt64, fdes: [Range<UInt64>],
                          isNamed: (UInt64) -> Bool) -> Range<UInt64>? {
        let own = start..<start + UInt64(code.count)
        var votes: [Range<UInt64>: Int] = [:]
        var index = 0
        while index + 5 <= code.count {
            var target: UInt64?
            if code[index] == 0xe9 {
                target = jumpTarget(code, displacementAt: index + 1, next: start + UInt64(index + 5))
            } else if code[index] == 0x0f, code[index + 1] & 0xf0 == 0x80, index + 6 <= code.count {
                target = jumpTarget(code, displacementAt: index + 2, next: start + UInt64(index + 6))
            }
            index += 1
            guard let target, !own.contains(target), !isNamed(target),
                  let fde = fdes.last(where: { $0.lowerBound <= target }), fde.contains(target) else { continue }
            votes[fde, default: 0] += 1
        }
        guard let best = votes.max(by: { $0.value < $1.value }), best.value >= minimumVotes else { return nil }
        return best.key
    }

    static func jumpTarget(_ code: [UInt8], displacementAt at: Int, next: UInt64) -> UInt64 {
        let displacement = Int32(bitPattern: UInt32(code[at]) | UInt32(code[at + 1]) << 8
            | UInt32(code[at + 2]) << 16 | UInt32(code[at + 3]) << 24)
        return UInt64(bitPattern: Int64(bitPattern: next) &+ Int64(displacement))
    }

    /// `count` bytes at link-time `address`, read from the file through its
    /// loadable segments.
    static func bytes(of file: ELFFile, from address: UInt64, count: Int) -> [UInt8]? {
        guard let segment = file.segments.first(where: {
            $0.virtualAddress <= address && address + UInt64(count) <= $0.virtualAddress + $0.fileSize
        }), let handle = FileHandle(forReadingAtPath: file.path) else { return nil }
        defer { try? handle.close() }
        try? handle.seek(toOffset: segment.fileOffset + (address - segment.virtualAddress))
        guard let data = try? handle.read(upToCount: count), data.count == count else { return nil }
        return [UInt8](data)
    }
}
