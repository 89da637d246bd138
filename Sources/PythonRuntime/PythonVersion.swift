/// A CPython version as the interpreter itself reports it.
public struct PythonVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var micro: Int

    public init(major: Int, minor: Int, micro: Int) {
        self.major = major
        self.minor = minor
        self.micro = micro
    }

    /// From PY_VERSION_HEX (`Py_Version`, `_Py_DebugOffsets.version`).
    public init(hex: UInt64) {
        self.init(major: Int((hex >> 24) & 0xff), minor: Int((hex >> 16) & 0xff), micro: Int((hex >> 8) & 0xff))
    }

    /// From a version string such as "3.9.18" or "3.13.0rc1".
    public init?(string: String) {
        let parts = string.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        let microDigits = parts[2].prefix(while: \.isNumber)
        guard let micro = Int(microDigits) else { return nil }
        self.init(major: major, minor: minor, micro: micro)
    }

    public var hex: UInt32 { UInt32(major << 24 | minor << 16 | micro << 8) }

    public var description: String { "\(major).\(minor).\(micro)" }

    public var majorMinor: String { "\(major).\(minor)" }

    public static func < (a: PythonVersion, b: PythonVersion) -> Bool {
        (a.major, a.minor, a.micro) < (b.major, b.minor, b.micro)
    }
}
