import Foundation

/// `pyrograph dump --json`: one document, `{"processes": [...]}`, each
/// process a `ProcessSnapshot` with its threads (field by field in the
/// README's "pyrograph dump" section). Absent values are omitted, never
/// guessed (`holdsGIL` is absent where the GIL is not read).
public enum DumpJSONWriter {
    public struct Document: Codable, Equatable {
        public var processes: [ProcessSnapshot]
        /// Processes given with -p that could not be dumped, with why.
        public var errors: [DumpFailure]
    }

    public struct DumpFailure: Codable, Equatable {
        public var pid: Int32
        public var error: String
    }

    public static func text(processes: [ProcessSnapshot], failures: [DumpError]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let document = Document(processes: processes,
                                errors: failures.map { DumpFailure(pid: $0.pid, error: $0.description) })
        return String(decoding: try encoder.encode(document), as: UTF8.self) + "\n"
    }
}
