/// Numbers as the SVG shows them, the same on every platform, unlike
/// `description` of a `Double`.
enum SVGNumber {
    /// At most two decimals, without trailing zeros: "393.33", "10", "7.2".
    static func coordinate(_ value: Double) -> String {
        let hundredths = Int64((value * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let whole = hundredths.magnitude / 100
        let fraction = hundredths.magnitude % 100
        if fraction == 0 { return "\(sign)\(whole)" }
        if fraction % 10 == 0 { return "\(sign)\(whole).\(fraction / 10)" }
        return "\(sign)\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Always two decimals: "42.86", "100.00".
    static func percent(_ part: UInt64, of total: UInt64) -> String {
        let hundredths = UInt64((Double(part) * 10_000 / Double(max(total, 1))).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// "1234567" → "1,234,567".
    static func grouped(_ value: UInt64) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }
}
