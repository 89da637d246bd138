import Foundation

// asset-embedder OUTPUT.swift ASSET...
//
// Writes one Swift file declaring `enum EmbeddedAssets` with a `String`
// constant per asset, named from the file name: `flamegraph.js` becomes
// `flamegraphJS`. Run by the EmbedAssets build-tool plugin.

struct UsageError: Error, CustomStringConvertible {
    let description: String
}

/// `flamegraph.js` → `flamegraphJS`, `my-chart.min.css` → `myChartMinCSS`.
func constantName(forAssetNamed fileName: String) -> String {
    var stem = Substring(fileName)
    var suffix = ""
    if let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex {
        stem = fileName[..<dot]
        suffix = fileName[fileName.index(after: dot)...]
            .filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
            .uppercased()
    }
    let words = stem.split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
    var name = words.enumerated().map { index, word in
        index == 0 ? word.prefix(1).lowercased() + word.dropFirst() : word.prefix(1).uppercased() + word.dropFirst()
    }.joined() + suffix
    if name.first?.isLetter != true { name = "_" + name }
    return name
}

/// A raw multi-line literal keeps the generated file readable; it cannot
/// hold a carriage return or most control characters, so such content
/// falls back to a byte array, which can hold anything.
func literal(for text: String) -> String {
    guard text.unicodeScalars.allSatisfy(isSafeInRawLiteral) else { return byteArrayLiteral(for: text) }

    // More `#` than any run in the text, so neither `"###` nor `\###` inside
    // it can end the literal or start an interpolation.
    var longestRun = 0
    var run = 0
    for scalar in text.unicodeScalars {
        run = scalar == "#" ? run + 1 : 0
        longestRun = max(longestRun, run)
    }
    let hashes = String(repeating: "#", count: longestRun + 1)
    return "\(hashes)\"\"\"\n\(text)\n\"\"\"\(hashes)"
}

/// Conservative: invisible and unassigned scalars are legal in a literal
/// but would hide in the generated source, so they take the byte-array path.
func isSafeInRawLiteral(_ scalar: Unicode.Scalar) -> Bool {
    if scalar == "\n" || scalar == "\t" { return true }
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
        return false
    default:
        return true
    }
}

func byteArrayLiteral(for text: String) -> String {
    let bytes = Array(text.utf8)
    var lines: [String] = []
    for start in stride(from: 0, to: bytes.count, by: 16) {
        let chunk = bytes[start..<min(start + 16, bytes.count)]
        lines.append("        " + chunk.map { "0x" + String($0, radix: 16) }.joined(separator: ", ") + ",")
    }
    return "String(decoding: [\n" + lines.joined(separator: "\n") + "\n    ] as [UInt8], as: UTF8.self)"
}

func generatedSource(for assets: [URL]) throws -> String {
    var source = """
        // Generated at build time by asset-embedder from the target's Assets
        // directory. Do not edit; edit the asset files instead.

        enum EmbeddedAssets {

        """
    var usedNames: [String: String] = [:]
    for asset in assets {
        let fileName = asset.lastPathComponent
        let name = constantName(forAssetNamed: fileName)
        if let earlier = usedNames[name] {
            throw UsageError(
                description: "asset-embedder: \(earlier) and \(fileName) would both be named \(name); rename one")
        }
        usedNames[name] = fileName
        let data = try Data(contentsOf: asset)
        // Decoding repairs invalid UTF-8, so an exact round trip proves it valid;
        // unlike Foundation's decoder, it also keeps a byte-order mark.
        let text = String(decoding: data, as: UTF8.self)
        guard Array(text.utf8) == Array(data) else {
            throw UsageError(description: "asset-embedder: \(asset.path) is not UTF-8 text")
        }
        source += "    /// \(fileName.filter { !$0.isNewline })\n"
        source += "    static let \(name): String = \(literal(for: text))\n\n"
    }
    source += "}\n"
    return source
}

do {
    let arguments = CommandLine.arguments.dropFirst()
    guard let outputPath = arguments.first else {
        throw UsageError(description: "usage: asset-embedder OUTPUT.swift ASSET...")
    }
    let assets = arguments.dropFirst().map { URL(fileURLWithPath: $0) }
    let source = try generatedSource(for: assets)
    try source.write(toFile: outputPath, atomically: true, encoding: .utf8)
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(1)
}
