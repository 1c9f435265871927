import Diagnostics
import JSONText

/// `tvgeo merge`: merges two LoRA adapters into a PEFT adapter folder hosted by the first one
/// (its config, its classifier heads, its tensor names and dtypes), or every ordered pair of a list.
/// This file holds the commands and their output folders; every file goes through `OutputFolder`.
public enum MergeRunner {
    /// Merges `partner` into `host` and writes the folder `out` atomically (a folder tvgeo did not
    /// write is refused with exit 73 before anything is computed, unless `force`: see
    /// `OutputFolder.write`).
    @discardableResult
    public static func run(host: AdapterArgument, partner: AdapterArgument, method: MergeMethod,
                           out: String, force: Bool = false) throws(ToolError) -> MergedAdapter {
        try AdapterArgument.checkUnique([host, partner])
        try OutputFolder.checkTarget(out, force: force)
        let inputs = [try MergeInput(host), try MergeInput(partner)]
        let merged = try merge(host: inputs[0], partner: inputs[1], method: method)
        try OutputFolder.write(merged.files, to: out, force: force)
        return merged
    }

    /// Merges every ordered pair (host ≠ partner) into `out/<host>+<partner>/` and writes
    /// `out/manifest.json` and `out/manifest.csv`. Every pair is checked before anything is
    /// written; the whole folder is built beside `out` and moved into place at the end, so a
    /// failed run leaves an earlier output as it was. `progress` is called after each pair with
    /// (done, total, the pair, its warnings).
    @discardableResult
    /// With `force`, a folder tvgeo did not write is accepted and only tvgeo's file names in it are
    /// replaced (every merge is then held in memory until all are done); see `OutputFolder.write`.
    public static func runAllPairs(_ arguments: [AdapterArgument], method: MergeMethod, out: String, force: Bool = false,
                                   progress: ((Int, Int, ManifestEntry, [Warning]) -> Void)? = nil) throws(ToolError) -> [ManifestEntry] {
        try AdapterArgument.checkUnique(arguments)
        guard arguments.count >= 2 else { throw .usage("--all-pairs needs at least two adapters") }
        let target = try OutputFolder.checkTarget(out, force: force)
        var inputs: [MergeInput] = []
        for argument in arguments { inputs.append(try MergeInput(argument)) }
        var pairs: [(Int, Int, ManifestEntry)] = []
        var folders: [String: String] = [:]
        for i in inputs.indices {
            for j in inputs.indices where j != i {
                let folder = OutputNaming.component(inputs[i].task) + "+" + OutputNaming.component(inputs[j].task)
                if let other = folders[folder] {
                    throw .usage("the merges \(other) and \(inputs[i].task)+\(inputs[j].task) would both be written to \(folder); "
                                 + "rename the tasks with name=path")
                }
                folders[folder] = "\(inputs[i].task)+\(inputs[j].task)"
                pairs.append((i, j, ManifestEntry(host: inputs[i].task, partner: inputs[j].task, folder: folder, method: method)))
            }
        }
        for (i, j, _) in pairs { try MergeCompatibility.check(host: inputs[i], partner: inputs[j], method: method) }
        let entries = pairs.map(\.2)
        let manifests = [
            OutputFile("manifest.json", text: JSONWriter.string(MergeRecords.manifestJSON(entries, inputs: inputs, method: method))),
            OutputFile("manifest.csv", text: MergeRecords.manifestCSV(entries)),
        ]
        if target == .foreign {
            // Only tvgeo's own file names are replaced in a folder it did not write (--force).
            var files: [OutputFile] = []
            for (done, (i, j, entry)) in pairs.enumerated() {
                let merged = try merge(host: inputs[i], partner: inputs[j], method: method)
                files += merged.files.map { OutputFile(entry.folder + "/" + $0.path, $0.contents) }
                progress?(done + 1, pairs.count, entry, merged.warnings)
            }
            try OutputFolder.write(files + manifests, to: out, force: true)
            return entries
        }
        try OutputFolder.writeFolder(at: out, force: force) { staging throws(ToolError) in
            for (done, (i, j, entry)) in pairs.enumerated() {
                let merged = try merge(host: inputs[i], partner: inputs[j], method: method)
                try OutputFolder.write(merged.files, to: staging + "/" + entry.folder)
                progress?(done + 1, pairs.count, entry, merged.warnings)
            }
            try OutputFolder.writeFiles(manifests, into: staging, reportedAs: out)
        }
        return entries
    }
}
