/// Numbers as pyrograph prints them, the same on every platform, unlike
/// `description` of a `Double`.
public enum DecimalText {
    /// One decimal, rounded: 12.345 → "12.3".
    public static func tenths(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
