import Foundation
import PackagePlugin

/// Embeds every `Kernels/*.cl` file of the package into the target as Swift string literals
/// (`EmbeddedKernels.sources`), so the OpenCL backend needs no files at run time, and generates the typed kernel
/// table (`CLKernels`, `CLKernelFile`) from the files' `__kernel` signatures, so that Swift launches name kernels
/// and pass arguments through constants the `.cl` files declare. The plugin runs on every build, so new and
/// edited `.cl` files are picked up.
@main
struct EmbedKernelsPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let kernelDirectory = context.package.directoryURL.appending(path: "Kernels")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: kernelDirectory.path)) ?? []
        let kernels = names.filter { $0.hasSuffix(".cl") }.sorted().map { kernelDirectory.appending(path: $0) }
        let sources = context.pluginWorkDirectoryURL.appending(path: "EmbeddedKernels.swift")
        let table = context.pluginWorkDirectoryURL.appending(path: "CLKernelTable.swift")
        return [.buildCommand(
            displayName: "Embedding \(kernels.count) OpenCL kernel files and their kernel table",
            executable: try context.tool(named: "EmbedKernels").url,
            arguments: [sources.path, table.path] + kernels.map(\.path),
            inputFiles: kernels,
            outputFiles: [sources, table])]
    }
}
