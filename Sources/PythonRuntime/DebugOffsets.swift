/// `_Py_DebugOffsets`, the table CPython 3.13+ keeps at the start of
/// `_PyRuntime` for out-of-process tools: the offsets of the fields of its
/// runtime, interpreter and thread states, frames, code objects and strings,
/// as this very build compiled them.
///
/// The struct itself changes between minor versions (and between the
/// pre-releases of one), so it is read through the field positions of its
/// struct version. A struct version is the list of the struct's sections in
/// declaration order, each a list of `uint64_t` fields, exactly as
/// `Include/internal/pycore_debug_offsets.h` (`pycore_runtime.h` on 3.13)
/// declares them; positions follow from the order. Nothing else about a
/// version is written down here.
public struct DebugOffsets {
    public static let cookie: [UInt8] = Array("xdebugpy".utf8)
    /// `char cookie[8]`, `uint64_t version`, `uint64_t free_threaded`.
    public static let headerSize = 24

    public struct Header: Equatable, Sendable {
        /// `PY_VERSION_HEX` of the build.
        public var versionHex: UInt64
        public var freeThreaded: Bool
        public var version: PythonVersion { PythonVersion(hex: versionHex) }
    }

    public static func header(_ bytes: [UInt8]) -> Header? {
        guard bytes.count >= headerSize, Array(bytes[0..<8]) == cookie else { return nil }
        return Header(versionHex: field(bytes, 8), freeThreaded: field(bytes, 16) != 0)
    }

    /// One version of the struct.
    public struct StructVersion: Sendable {
        public var name: String
        public var major: Int
        public var minor: Int
        public var sections: [(name: String, fields: [String])]

        /// Bytes from the cookie to the end of the last section.
        public var size: Int { DebugOffsets.headerSize + 8 * sections.reduce(0) { $0 + $1.fields.count } }

        /// Byte position of `section.field` within the struct.
        public func position(_ section: String, _ field: String) -> Int? {
            var position = DebugOffsets.headerSize
            for entry in sections {
                if entry.name == section {
                    guard let index = entry.fields.firstIndex(of: field) else { return nil }
                    return position + 8 * index
                }
                position += 8 * entry.fields.count
            }
            return nil
        }

        /// Every field as "section.field", with its position.
        public var positions: [String: Int] {
            var result: [String: Int] = [:]
            var position = DebugOffsets.headerSize
            for entry in sections {
                for field in entry.fields {
                    result["\(entry.name).\(field)"] = position
                    position += 8
                }
            }
            return result
        }

        /// The struct of a minor version is frozen with its ABI, at the first
        /// release candidate; alphas and betas may differ from it (3.15.0b4
        /// inserted a thread-state field) and are not read.
        func describes(versionHex: UInt64) -> Bool {
            let major = Int((versionHex >> 24) & 0xff), minor = Int((versionHex >> 16) & 0xff)
            let releaseLevel = (versionHex >> 4) & 0xf
            return major == self.major && minor == self.minor && (releaseLevel == 0xc || releaseLevel == 0xf)
        }
    }

    public static let known: [StructVersion] = [DebugOffsets.v313, DebugOffsets.v314, DebugOffsets.v315]

    public static func structVersion(forVersionHex hex: UInt64) -> StructVersion? {
        known.first { $0.describes(versionHex: hex) }
    }

    public let header: Header
    public let structVersion: StructVersion
    private let bytes: [UInt8]

    /// nil unless `bytes` start with the cookie and hold the whole struct of
    /// `structVersion`.
    public init?(_ bytes: [UInt8], structVersion: StructVersion) {
        guard let header = DebugOffsets.header(bytes), bytes.count >= structVersion.size else { return nil }
        self.header = header
        self.structVersion = structVersion
        self.bytes = bytes
    }

    /// The value of `section.field`; nil when this struct version lacks it.
    public func value(_ section: String, _ field: String) -> UInt64? {
        structVersion.position(section, field).map { DebugOffsets.field(bytes, $0) }
    }

    static func field(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) }
    }
}
