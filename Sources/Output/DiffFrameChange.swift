import Aggregation

/// One frame's values in both profiles and how they compare.
struct DiffFrameChange {
    let before: UInt64
    let after: UInt64
    let beforeTotal: UInt64
    let afterTotal: UInt64
    /// BEFORE as compared with AFTER: scaled when normalized.
    let comparableBefore: Double
    let isNormalized: Bool

    init(box: FlameGraphLayout.Box, diff: ProfileDiff) {
        before = box.baseline
        after = box.samples
        beforeTotal = diff.beforeTotal
        afterTotal = diff.afterTotal
        comparableBefore = diff.comparableBefore(box.baseline)
        isNormalized = diff.isNormalized
    }

    /// From -1 to 1: how many times larger the larger value is, less one,
    /// signed by which is larger; so 1 at double (or new), -1 at half, 0.1
    /// for 10 % more.
    var intensity: Double {
        let after = Double(after)
        guard comparableBefore > 0 else { return after > 0 ? 1 : 0 }
        guard after > 0 else { return -1 }
        return after >= comparableBefore ? min(1, after / comparableBefore - 1) : -min(1, comparableBefore / after - 1)
    }

    /// White when unchanged, to full red or blue.
    var fill: String {
        let fade = Int((200 * abs(intensity)).rounded())
        if intensity > 0 { return "rgb(255,\(255 - fade),\(255 - fade))" }
        if intensity < 0 { return "rgb(\(255 - fade),\(255 - fade),255)" }
        return "rgb(255,255,255)"
    }

    /// "before 1,234 samples 25.00%, after 2,345 samples 50.00%, +25.00 points, +100.0%":
    /// the change in share (normalized) or in samples (not), then relative.
    var text: String {
        let beforeShare = SVGNumber.percent(before, of: beforeTotal)
        let afterShare = SVGNumber.percent(after, of: afterTotal)
        var text = "before \(SVGNumber.grouped(before)) \(Self.noun(before)) \(beforeShare)%, "
            + "after \(SVGNumber.grouped(after)) \(Self.noun(after)) \(afterShare)%, "
        if isNormalized {
            let points = 100 * (Double(after) / Double(max(afterTotal, 1)) - Double(before) / Double(max(beforeTotal, 1)))
            text += Self.signed(points, decimals: 2) + " points"
        } else {
            text += (after >= before ? "+" + SVGNumber.grouped(after - before) : "-" + SVGNumber.grouped(before - after))
                + " " + Self.noun(after >= before ? after - before : before - after)
        }
        if comparableBefore > 0 {
            text += ", " + Self.signed(100 * (Double(after) / comparableBefore - 1), decimals: 1) + "%"
        } else {
            text += ", new"
        }
        return text
    }

    private static func noun(_ count: UInt64) -> String { count == 1 ? "sample" : "samples" }

    /// "+1.25", "-0.50", "+0.00": fixed decimals, the same on every platform.
    static func signed(_ value: Double, decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let sign = value < 0 && scaled != 0 ? "-" : "+"
        let whole = scaled / Int64(scale)
        var fraction = String(scaled % Int64(scale))
        while fraction.count < decimals { fraction = "0" + fraction }
        return sign + "\(whole)" + (decimals > 0 ? "." + fraction : "")
    }
}
