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

    /// What an all-pairs run wrote and skipped, in the order of the pairs.
    public struct AllPairsResult: Sendable {
        public var rows: [ManifestRow]
        public var merges: [ManifestEntry] {
            rows.compactMap { if case .written(let entry) = $0 { return entry } else { return nil } }
        }
        public var skipped: [SkippedPair] {
            rows.compactMap { if case .skipped(let pair) = $0 { return pair } else { return nil } }
        }
    }

    /// Merges every ordered pair (host ≠ partner) that `method` can merge into
    /// `out/<host>+<partner>/` and writes `out/manifest.json` and `out/manifest.csv`, which also
    /// list the pairs skipped and why (`MergeCompatibility.checkPair`'s message). An adapter that
    /// no pair can use (LoRA on embeddings), a merge that fails while computed or written, and a run
    /// where no pair can be merged (`.invalidData`, exit 65, with the first pair's reason) stop the
    /// whole run. Every pair is checked before anything is written; the whole folder is built beside
    /// `out` and moved into place at the end, so a failed run leaves an earlier output as it was.
    /// `progress` is called after each merge with (done, total merges, the pair, its warnings).
    /// With `force`, a folder tvgeo did not write is accepted and only tvgeo's file names in it are
    /// replaced (every merge is then held in memory until all are done); see `OutputFolder.write`.
    @discardableResult
    public static func runAllPairs(_ arguments: [AdapterArgument], method: MergeMethod, out: String, force: Bool = false,
                                   progress: ((Int, Int, ManifestEntry, [Warning]) -> Void)? = nil) throws(ToolError) -> AllPairsResult {
        try AdapterArgument.checkUnique(arguments)
        guard arguments.count >= 2 else { throw .usage("--all-pairs needs at least two adapters") }
        let target = try OutputFolder.checkTarget(out, force: force)
        var inputs: [MergeInput] = []
        for argument in arguments { inputs.append(try MergeInput(argument)) }
        for input in inputs { try MergeCompatibility.checkAdapter(input) }
        var rows: [ManifestRow] = []
        var pairs: [(Int, Int, ManifestEntry)] = []
        var firstProblem: ToolError?
        var folders: [String: String] = [:]
        for i in inputs.indices {
            for j in inputs.indices where j != i {
                let folder = OutputNaming.component(inputs[i].task) + "+" + OutputNaming.component(inputs[j].task)
                if let other = folders[folder] {
                    throw .usage("the merges \(other) and \(inputs[i].task)+\(inputs[j].task) would both be written to \(folder); "
                                 + "rename the tasks with name=path")
                }
                folders[folder] = "\(inputs[i].task)+\(inputs[j].task)"
                do {
                    try MergeCompatibility.checkPair(host: inputs[i], partner: inputs[j], method: method)
                    let entry = ManifestEntry(host: inputs[i].task, partner: inputs[j].task, folder: folder, method: method)
                    pairs.append((i, j, entry))
                    rows.append(.written(entry))
                } catch {
                    firstProblem = firstProblem ?? error
                    rows.append(.skipped(SkippedPair(host: inputs[i].task, partner: inputs[j].task, method: method, reason: error.message)))
                }
            }
        }
        if pairs.isEmpty, let firstProblem {
            throw noPairError(firstProblem, count: rows.count, adapters: inputs.count, method: method)
        }
        let manifests = [
            OutputFile("manifest.json", text: JSONWriter.string(MergeRecords.manifestJSON(rows, inputs: inputs, method: method))),
            OutputFile("manifest.csv", text: MergeRecords.manifestCSV(rows)),
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
            return AllPairsResult(rows: rows)
        }
        try OutputFolder.writeFolder(at: out, force: force) { staging throws(ToolError) in
            for (done, (i, j, entry)) in pairs.enumerated() {
                let merged = try merge(host: inputs[i], partner: inputs[j], method: method)
                try OutputFolder.write(merged.files, to: staging + "/" + entry.folder)
                progress?(done + 1, pairs.count, entry, merged.warnings)
            }
            try OutputFolder.writeFiles(manifests, into: staging, reportedAs: out)
        }
        return AllPairsResult(rows: rows)
    }

    /// The error of an all-pairs run where no pair can be merged: the first pair's problem, with
    /// how many pairs there were (exit 65, whatever the first problem's own code).
    private static func noPairError(_ first: ToolError, count: Int, adapters: Int, method: MergeMethod) -> ToolError {
        let summary = "none of the \(Wording.count(count, "ordered pair")) of the \(adapters) adapters can be merged "
                      + "by \(method.rawValue), so nothing was written (this is the first pair's reason)"
        switch first {
        case .invalidData(let file, let location, let problem):
            return .invalidData(file: file, location: location, problem: problem + "; " + summary)
        case .missingInput(let path, let problem):
            return .invalidData(file: path, location: nil, problem: problem + "; " + summary)
        default:
            return first
        }
    }
}
