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
        var profile = Profile()
        var cache: [Substring: Frame] = [:]
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            if line.allSatisfy(\.isWhitespace) { continue }
            guard let space = line.lastIndex(of: " "), let count = UInt64(line[line.index(after: space)...]) else {
                throw Malformed(line: lineNumber, text: String(line))
            }
            var stack: [Frame] = []
            for (depth, name) in line[..<space].split(separator: ";", omittingEmptySubsequences: false).enumerated() {
                if depth >= 2, let frame = cache[name] {
                    stack.append(frame)
                    continue
                }
                let frame = typed(name, depth: depth, hasThread: stack.count == 1)
                if depth >= 2 { cache[name] = frame }
                stack.append(frame)
            }
            profile.add(stack, count: count)
        }
        return profile
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
