import Aggregation

/// The folded format that flamegraph.pl and inferno read: one line per
/// distinct stack, frames root first joined by `;`, then a space and the
/// stack's value of the profile's default sample type.
public struct FoldedWriter: ProfileWriter {
    public init() {}

    public func write(_ profile: Profile, to stream: ByteStream) throws {
        let names = profile.frames.map(FrameNaming.displayName)
        // Each name's bytes once: a recording of 150,000 deep stacks writes
        // a hundred megabytes, and joining strings per line took seconds.
        let safeNames = names.map { Array(Self.sanitize($0).utf8) }
        var out = ChunkedText(stream)
        for stack in Self.sorted(profile.stacks, names: names) {
            let value = stack.values[profile.defaultSampleType]
            guard value > 0 else { continue }
            for (position, frame) in stack.frames.enumerated() {
                if position > 0 { out.append(byte: UInt8(ascii: ";")) }
                out.append(bytes: safeNames[Int(frame)])
            }
            try out.append(" \(value)\n")
        }
        try out.flush()
    }

    public static func render(_ profile: Profile) -> String {
        FoldedWriter().rendered(profile)
    }

    /// Stacks in a stable order (by frame names, root first; a stack before
    /// its extensions), so output is deterministic and golden files compare.
    /// Names are ranked once, so that comparing two stacks compares
    /// integers: comparing the strings themselves, deep stacks sharing long
    /// prefixes, made sorting 150,000 stacks take seconds.
    static func sorted(_ stacks: [Profile.Stack], names: [String]) -> [Profile.Stack] {
        let rank = ranks(names)
        return stacks.sorted { a, b in
            for (x, y) in zip(a.frames, b.frames) where rank[Int(x)] != rank[Int(y)] {
                return rank[Int(x)] < rank[Int(y)]
            }
            return a.frames.count < b.frames.count
        }
    }

    /// Each name's place in the sorted list of distinct names: equal names
    /// get equal ranks, and ranks order as the names do.
    static func ranks(_ names: [String]) -> [Int32] {
        let order = names.indices.sorted { names[$0] < names[$1] }
        var rank = [Int32](repeating: 0, count: names.count)
        var current: Int32 = 0
        for (position, index) in order.enumerated() {
            if position > 0 && names[index] != names[order[position - 1]] { current += 1 }
            rank[index] = current
        }
        return rank
    }

    /// `;` separates frames and a newline ends a record, so neither may
    /// appear inside a name taken from a profiled process; other control
    /// characters (ESC, NUL) are escaped, as a terminal would obey them.
    static func sanitize(_ name: String) -> String {
        guard name.contains(where: { $0 == ";" || $0.isNewline })
                || name.unicodeScalars.contains(where: UntrustedText.needsEscape) else { return name }
        return UntrustedText.escaped(String(name.map { $0 == ";" ? ":" : ($0.isNewline ? " " : $0) }))
    }
}
