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
    static func sorted(_ stacks: [Profile.Stack], names: [String]) -> [Profile.Stack] {
        stacks.sorted { a, b in
            for (x, y) in zip(a.frames, b.frames) where names[Int(x)] != names[Int(y)] {
                return names[Int(x)] < names[Int(y)]
            }
            return a.frames.count < b.frames.count
        }
    }

    /// `;` separates frames and a newline ends a record, so neither may
    /// appear inside a name taken from a profiled process; other control
    /// characters (ESC, NUL) are escaped, as a terminal would obey them.
    static func sanitize(_ name: String) -> String {
        // Printable ASCII without `;`, as nearly every name is, stays as it
        // is: checked byte by byte, which is much faster than by Character.
        if name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ";") }) { return name }
        guard name.contains(where: { $0 == ";" || $0.isNewline })
                || name.unicodeScalars.contains(where: UntrustedText.needsEscape) else { return name }
        return UntrustedText.escaped(String(name.map { $0 == ";" ? ":" : ($0.isNewline ? " " : $0) }))
    }
}
