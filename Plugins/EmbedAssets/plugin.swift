import Foundation
import PackagePlugin

/// Turns every file in a target's `Assets` directory into a Swift string
/// constant, so the assets stay real, editable files in the repository yet
/// ship inside the binary with no resource bundle to find at run time.
///
/// Uses `Path` rather than the URL API, which needs tools version 6.1.
@main struct EmbedAssets: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let assets = try assetFiles(in: target.directory.appending("Assets"))
        guard !assets.isEmpty else { return [] }

        let generatedFile = context.pluginWorkDirectory.appending("EmbeddedAssets.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(assets.count) assets into \(target.name)",
                executable: try context.tool(named: "asset-embedder").path,
                arguments: [generatedFile.string] + assets.map(\.string),
                // Listing the assets is what makes an edit to one of them rebuild the module.
                inputFiles: assets,
                outputFiles: [generatedFile]
            ),
        ]
    }

    /// Sorted, so the generated file does not depend on directory order.
    private func assetFiles(in directory: Path) throws -> [Path] {
        let fileManager = FileManager.default
        guard fileManager.fileExists(atPath: directory.string) else { return [] }
        return try fileManager.contentsOfDirectory(atPath: directory.string)
            .filter { !$0.hasPrefix(".") }
            .sorted()
            .map { directory.appending($0) }
            .filter { path in
                var isDirectory: ObjCBool = false
                return fileManager.fileExists(atPath: path.string, isDirectory: &isDirectory) && !isDirectory.boolValue
            }
    }
}
