import Aggregation

/// Reads folded stacks (`frame;frame;frame count`) back into a `Profile`,
/// typing each frame from the display names `FrameNaming` gives:
/// - the first frame is the process, `COMM (PID)` (or `COMM` when merged);
/// - a second frame `NAME (TID)` is a thread;
/// - `symbol_[k]` kernel, `[text]` an annotation, `qualname (file:line)`
///   Python (`qualname (file.py)` with its lines merged), `symbol [module]` or `module+0xOFFSET` native, anything else a
///   native symbol without a module.
/// Lines that are not a stack and a count are reported, not guessed at.
public enum FoldedReader {
    public struct Malformed: Error, CustomStringConvertible {
        public var line: Int
        public var text: String
        public var description: String { "line \(line) is not `frame;frame;... COUNT`: \(UntrustedText.escaped(text))" }
    }

    public static func read(_ text: String) throws -> Profile {
        var text = text
        return try text.withUTF8 { try read(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Reads the text byte by byte: `;`, spaces and newlines are ASCII, so
    /// lines and frames are cut without decoding (a soak's 123 MB file took
    /// 7.6 s when cut as Characters), and each distinct name is typed and
    /// interned once.
    static func read(bytes text: UnsafeRawBufferPointer) throws -> Profile {
        let newline = UInt8(ascii: "\n"), space = UInt8(ascii: " "), semicolon = UInt8(ascii: ";")
        var profile = Profile()
        var names = FoldedNameIndex()
        var key: [Int32] = []
        var lineNumber = 0
        var lineStart = 0
        while lineStart <= text.count {
            let lineEnd = text[lineStart...].firstIndex(of: newline) ?? text.count
            defer { lineStart = lineEnd + 1 }
            lineNumber += 1
            var stop = lineEnd
            if stop > lineStart, text[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
            let line = UnsafeRawBufferPointer(rebasing: text[lineStart..<stop])
            if isBlank(line) { continue }
            guard let space = line.lastIndex(of: space),
                  let count = UInt64(String(decoding: line[(space + 1)...], as: UTF8.self)) else {
                throw Malformed(line: lineNumber, text: String(decoding: line, as: UTF8.self))
            }
            // A stack without samples adds nothing, not even its frames.
            guard count > 0 else { continue }
            key.removeAll(keepingCapacity: true)
            var nameStart = 0
            var depth = 0
            while nameStart <= space {
                let nameEnd = line[nameStart..<space].firstIndex(of: semicolon) ?? space
                let name = UnsafeRawBufferPointer(rebasing: line[nameStart..<nameEnd])
                let depthClass = UInt8(min(depth, 2))
                if let known = names.frame(named: name, depthClass: depthClass) {
                    key.append(known)
                } else {
                    let frame = typed(Substring(String(decoding: name, as: UTF8.self)), depth: depth, hasThread: key.count == 1)
                    let index = profile.intern(frame)
                    names.insert(index, named: name, depthClass: depthClass)
                    key.append(index)
                }
                nameStart = nameEnd + 1
                depth += 1
            }
            profile.add(frameIndices: key, values: [count])
        }
        return profile
    }

    /// Only whitespace: ASCII checked as bytes, anything else as Characters.
    private static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        if line.allSatisfy({ $0 == 0x20 || (0x09...0x0D).contains($0) }) { return true }
        guard line.contains(where: { $0 >= 0x80 }) else { return false }
        return String(decoding: line, as: UTF8.self).allSatisfy(\.isWhitespace)
    }

    static func typed(_ name: Substring, depth: Int, hasThread: Bool) -> Frame {
        if depth == 0 {
            if let (text, id) = trailingID(name) { return .process(comm: String(text), pid: id) }
            return Frame(kind: .process, function: String(name))
        }
        if depth == 1, let (text, id) = trailingID(name) { return .thread(name: String(text), tid: id) }
        if name.hasSuffix("_[k]") { return .kernel(symbol: String(name.dropLast(4))) }
        if name.hasPrefix("["), name.hasSuffix("]") {
            return Frame(kind: .annotation, function: String(name.dropFirst().dropLast()))
        }
        if name.hasSuffix(")"), let open = lastRange(of: " (", in: name) {
            let inside = name[open.upperBound..<name.index(before: name.endIndex)]
            if let colon = inside.lastIndex(of: ":"), let line = Int(inside[inside.index(after: colon)...]) {
                return .python(function: String(name[..<open.lowerBound]), file: String(inside[..<colon]), line: line)
            }
            // `qualname (file.py)`: a function's lines merged (--no-lines).
            if inside.hasSuffix(".py") || inside.hasSuffix(".pyw") || (inside.hasPrefix("<") && inside.hasSuffix(">")) {
                return .python(function: String(name[..<open.lowerBound]), file: String(inside))
            }
        }
        if name.hasSuffix("]"), let open = lastRange(of: " [", in: name) {
            return .native(symbol: String(name[..<open.lowerBound]),
                           module: String(name[open.upperBound..<name.index(before: name.endIndex)]))
        }
        if let plus = lastRange(of: "+0x", in: name),
           let offset = UInt64(name[plus.upperBound...], radix: 16), !name[..<plus.lowerBound].contains(" ") {
            return .unsymbolized(module: String(name[..<plus.lowerBound]), offset: offset)
        }
        return .native(symbol: String(name), module: nil)
    }

    /// The last occurrence of `needle` in `text` (Output does not import Foundation).
    static func lastRange(of needle: String, in text: Substring) -> Range<Substring.Index>? {
        let pattern = Array(needle.utf8)
        let bytes = text.utf8
        var index = bytes.endIndex
        while let start = bytes.index(index, offsetBy: -pattern.count, limitedBy: bytes.startIndex) {
            if bytes[start...].starts(with: pattern) {
                return start..<bytes.index(start, offsetBy: pattern.count)
            }
            guard start > bytes.startIndex else { return nil }
            index = bytes.index(before: index)
        }
        return nil
    }

    /// "NAME (123)" → ("NAME", 123).
    static func trailingID(_ name: Substring) -> (Substring, Int32)? {
        guard name.hasSuffix(")"), let open = lastRange(of: " (", in: name),
              let id = Int32(name[open.upperBound..<name.index(before: name.endIndex)]) else { return nil }
        return (name[..<open.lowerBound], id)
    }
}
