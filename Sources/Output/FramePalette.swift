import Aggregation

/// Colours from a hash of the frame name, so a function keeps its colour
/// from one run to the next and golden files stay stable; the family says
/// what kind of frame it is.
enum FramePalette {
    static func fill(kind: Frame.Kind?, name: String) -> String {
        let (a, b, c) = hashFractions(name)
        func rgb(_ r: Double, _ g: Double, _ b: Double) -> String { "rgb(\(Int(r)),\(Int(g)),\(Int(b)))" }
        switch kind {
        case nil: return "rgb(208,208,212)"
        // Paler than native frames, whose "hot" range passes through orange too.
        case .kernel: return rgb(235 + 20 * a, 150 + 40 * b, 70 + 40 * c)
        case .native: return rgb(205 + 50 * a, 200 * b, 55 * c)
        case .python: return rgb(40 + 70 * c, 180 + 60 * a, 90 + 110 * b)
        case .process, .thread: return rgb(130 + 40 * a, 148 + 40 * a, 190 + 40 * b)
        case .annotation: return rgb(170 + 50 * a, 110 + 50 * b, 210 + 45 * c)
        }
    }

    /// FNV-1a, then a 64-bit finalizer to spread FNV's weak low bits;
    /// `Hasher` is seeded per process and would change colours every run.
    private static func hashFractions(_ name: String) -> (Double, Double, Double) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        func fraction(_ shift: UInt64) -> Double { Double((hash >> shift) & 0xffff) / 65535 }
        return (fraction(0), fraction(16), fraction(32))
    }
}
