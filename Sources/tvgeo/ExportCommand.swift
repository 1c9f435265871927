import ArgumentParser
import Diagnostics
import Foundation
import Study

struct Export: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an output folder's metrics.json in another layout (--json-layers: the per-layer matrices inline, as before schema 3).",
        discussion: """
        DIR is an output folder of tvgeo analyze, report or combine. Its metrics.json (tvgeo.metrics/3, or tvgeo.kinds/2 \
        for a study of both kinds) keeps the distance matrices in DIR/layers.safetensors; --json-layers writes the same \
        document with every matrix inline again (tvgeo.metrics/2, tvgeo.kinds/1; see docs/metrics-schema.md), after \
        checking the sidecar's size and SHA-256 against metrics.json. At N tasks the result holds about \
        20·(layers + 1)·N² bytes per metric and module (hundreds of MB at N = 500).
        Exit codes: 0 success, 64 usage error, 65 metrics.json or the sidecar invalid or not matching, \
        66 missing or unreadable, 70 internal error, 73 output cannot be written (it exists: --force).
        """
    )

    @Option(name: .customLong("json-layers"), help: ArgumentHelp("The output folder whose metrics.json to export.", valueName: "DIR"))
    var jsonLayers: String?

    @Option(help: ArgumentHelp("The file to write (default: DIR/\(LayersExport.defaultName)).", valueName: "file.json"))
    var out: String?

    @Flag(help: "Replace the output file if it exists.")
    var force = false

    @Flag(name: .shortAndLong, help: "Print only warnings and errors.")
    var quiet = false

    func execute() throws(ToolError) {
        guard let folder = jsonLayers else { throw .usage("say what to export: tvgeo export --json-layers DIR") }
        let trimmed = folder.count > 1 && folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        let target = out ?? trimmed + "/" + LayersExport.defaultName
        let bytes = try LayersExport.write(folder: trimmed, to: target, force: force)
        if !quiet { printOutput("wrote \(target) (\(bytes) bytes, per-layer matrices inline)") }
    }
}
