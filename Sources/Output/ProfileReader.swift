import Aggregation
import Glibc
import SwiftProtobuf

/// Reads a profile back into the model, whatever format pyrograph wrote it
/// in, recognized by its content rather than its name: gzip's magic bytes
/// (then what they hold), protobuf bytes for pprof, text for folded stacks.
/// `convert`, `report` and `diff` read through here.
public enum ProfileReader {
    public enum Format: String, Sendable {
        case pprof
        case folded
    }

    /// Reads a file, or standard input for `-`.
    public static func read(path: String) throws -> Profile {
        let bytes: [UInt8]
        do {
            bytes = try readAll(path)
        } catch let error as ReadFailure {
            throw ProfileReadError(path: path, reason: .unreadable(error.detail))
        }
        return try read(bytes: bytes, path: path)
    }

    /// `path` names the input in messages.
    public static func read(bytes: [UInt8], path: String) throws -> Profile {
        var bytes = bytes
        if Gzip.isCompressed(bytes) {
            do {
                bytes = try Gzip.decompress(bytes)
            } catch {
                throw ProfileReadError(path: path, reason: .unreadable("\(error)"))
            }
        }
        guard let format = detect(bytes) else {
            throw ProfileReadError(path: path, reason: bytes.isEmpty ? .empty : .unknownFormat)
        }
        do {
            switch format {
            case .pprof:
                return try PprofDecoder.profile(from: Perftools_Profiles_Profile(serializedBytes: bytes))
            case .folded:
                let profile = try FoldedReader.read(String(decoding: bytes, as: UTF8.self))
                guard !profile.isEmpty else { throw ProfileReadError(path: path, reason: .empty) }
                return profile
            }
        } catch let error as ProfileReadError {
            throw error
        } catch let error as BinaryDecodingError {
            throw ProfileReadError(path: path, reason: .corrupt(format: format, detail: "protobuf: \(error)"))
        } catch {
            throw ProfileReadError(path: path, reason: .corrupt(format: format, detail: "\(error)"))
        }
    }

    /// Folded stacks are text without control characters but tabs and
    /// line ends (names in invalid UTF-8 included: they read as U+FFFD).
    /// pprof's protobuf always has some (its field tags: 0x0a for the
    /// first sample type, 0x08 and 0x10 inside it).
    public static func detect(_ bytes: [UInt8]) -> Format? {
        guard !bytes.isEmpty else { return nil }
        if bytes.allSatisfy({ $0 >= 0x20 || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d }) { return .folded }
        // A protobuf message starts with a field tag: field 1 to 15 with a
        // valid wire type; pprof's first is a sample type (field 1, bytes).
        let tag = bytes[0]
        guard tag >> 3 >= 1, tag >> 3 <= 15, [0, 1, 2, 5].contains(tag & 7) else { return nil }
        return .pprof
    }

    private struct ReadFailure: Error {
        var detail: String
    }

    private static func readAll(_ path: String) throws -> [UInt8] {
        let fd = path == "-" ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadFailure(detail: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            throw ReadFailure(detail: "it is a directory")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadFailure(detail: String(cString: strerror(errno)))
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<n])
        }
    }
}
