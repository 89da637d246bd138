/// Finds PY_VERSION ("3.9.18") in an interpreter's read-only data, where
/// Py_GetVersion() takes it from. Used for versions before 3.11, which
/// export no Py_Version.
public enum PythonVersionScanner {
    public static func version(inReadOnlyData data: [UInt8], expectedMajorMinor: String?) -> PythonVersion? {
        var candidates: [PythonVersion] = []
        var start = 0
        for index in data.indices where data[index] == 0 {
            // The linker may merge "3.9.18" into the tail of ".../3.9.18".
            var wordStart = start
            if let slash = data[start..<index].lastIndex(of: UInt8(ascii: "/")) { wordStart = slash + 1 }
            let length = index - wordStart
            if length >= 5 && length <= 12, let version = parse(data[wordStart..<index]) {
                candidates.append(version)
            }
            start = index + 1
        }
        if let expected = expectedMajorMinor, let match = candidates.first(where: { $0.majorMinor == expected }) {
            return match
        }
        return candidates.count == 1 ? candidates[0] : nil
    }

    /// The version at the start of sys.version ("3.9.18 (main, ...").
    public static func version(fromSysVersion bytes: [UInt8]) -> PythonVersion? {
        let end = bytes.firstIndex(where: { $0 == 0x20 || $0 == 0 }) ?? bytes.count
        return parse(bytes[0..<end])
    }

    /// Accepts exactly `2.7.18`, `3.10.13`, `3.13.0rc1`, `3.12.1+`.
    static func parse(_ bytes: ArraySlice<UInt8>) -> PythonVersion? {
        guard let first = bytes.first, first == UInt8(ascii: "2") || first == UInt8(ascii: "3") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 1, (1...2).contains(parts[1].count),
              parts[1].allSatisfy(\.isNumber) else { return nil }
        let micro = parts[2].prefix(while: \.isNumber)
        let suffix = parts[2].dropFirst(micro.count)
        guard (1...2).contains(micro.count) else { return nil }
        let allowedSuffix = suffix.isEmpty || suffix == "+"
            || (["a", "b", "rc"].contains { suffix.hasPrefix($0) } && suffix.last?.isNumber == true)
        guard allowedSuffix else { return nil }
        return PythonVersion(string: text)
    }
}
