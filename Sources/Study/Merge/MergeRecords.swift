import CSVText
import JSONText

/// One row of an all-pairs manifest.
public struct ManifestEntry: Sendable, Equatable {
    public var host: String
    public var partner: String
    /// The merged folder, relative to the output folder.
    public var folder: String
    public var method: MergeMethod
}

/// The records a merge writes: `tvgeo-merge.json` in each merged folder (what was merged, from
/// which files, how), and `manifest.json` and `manifest.csv` beside the folders of an all-pairs run.
public enum MergeRecords {
    public static let recordFile = "tvgeo-merge.json"
    public static let recordSchema = "tvgeo.merge/1"
    public static let manifestSchema = "tvgeo.merge-manifest/1"

    /// `tvgeo-merge.json` (schema `tvgeo.merge/1`, docs/merge.md).
    static func recordJSON(_ merged: MergedAdapter, host: MergeInput, partner: MergeInput, partnerUnused: [String]) -> JSONValue {
        func source(_ input: MergeInput) -> JSONValue {
            .object([
                ("task", .string(input.task)),
                ("path", .string(input.path)),
                ("files", .array(input.files.map { file in
                    .object([("name", .string(file.name)), ("path", .string(file.path)), ("sha256", .string(file.sha256))])
                })),
            ])
        }
        let blocks: [JSONValue] = merged.blocks.map { block in
            var pairs: [(String, JSONValue)] = [
                ("module", .string(block.module)),
                ("module_path", .string(block.modulePath)),
                ("layer", .int(block.layer)),
                ("lora_A", .string(block.loraA)),
                ("lora_B", .string(block.loraB)),
                ("dtype", .object([("lora_A", .string(block.dtypeA.rawValue)), ("lora_B", .string(block.dtypeB.rawValue))])),
                ("host", .object([("rank", .int(block.hostRank)), ("lora_alpha", .number(block.hostAlpha)),
                                  ("scaling", .number(block.hostScaling))])),
                ("partner", .object([("rank", .int(block.partnerRank)), ("lora_alpha", .number(block.partnerAlpha)),
                                     ("scaling", .number(block.partnerScaling))])),
                ("merged", .object([("rank", .int(block.rank)), ("lora_alpha", .number(block.alpha)), ("scaling", .number(block.scaling))])),
            ]
            if let error = block.truncationError { pairs.append(("truncation_error", .number(error))) }
            return .object(pairs)
        }
        var pairs: [(String, JSONValue)] = [
            ("schema", .string(recordSchema)),
            ("tool", .object([("name", .string("tvgeo")), ("version", .string(ToolInfo.version))])),
            ("method", .string(merged.method.rawValue)),
            ("formula", .string(merged.method.formula)),
            ("host", source(host)),
            ("partner", source(partner)),
            ("adapter_config", .string(merged.configUnchanged
                ? "the host's adapter_config.json, byte for byte"
                : "the host's adapter_config.json with r, lora_alpha, rank_pattern, alpha_pattern (and use_rslora) "
                  + "set for rank r_i + r_j and scaling 1; every other key unchanged")),
            ("kept_tensors", .array(merged.keptTensors.map(JSONValue.string))),
            ("partner_tensors_not_used", .array(partnerUnused.map(JSONValue.string))),
            ("warnings", .array(merged.warnings.map { .string($0.text) })),
        ]
        if merged.method == .svd {
            let errors = merged.blocks.compactMap(\.truncationError).filter { !$0.isNaN }
            pairs.append(("max_truncation_error", errors.isEmpty ? .null : .number(errors.max()!)))
        }
        pairs.append(("blocks", .array(blocks)))
        return .object(pairs)
    }

    /// `manifest.json` (schema `tvgeo.merge-manifest/1`): the method, the adapters and every merge,
    /// the names exactly as given.
    static func manifestJSON(_ entries: [ManifestEntry], inputs: [MergeInput], method: MergeMethod) -> JSONValue {
        .object([
            ("schema", .string(manifestSchema)),
            ("tool", .object([("name", .string("tvgeo")), ("version", .string(ToolInfo.version))])),
            ("method", .string(method.rawValue)),
            ("adapters", .array(inputs.map { .object([("task", .string($0.task)), ("path", .string($0.path))]) })),
            ("merges", .array(entries.map { entry in
                .object([("host", .string(entry.host)), ("partner", .string(entry.partner)),
                         ("folder", .string(entry.folder)), ("method", .string(entry.method.rawValue))])
            })),
        ])
    }

    /// `manifest.csv`: `host,partner,folder,method`, one row per merge. Every field is text (task
    /// names may start with a formula character; `CSVField.text`).
    static func manifestCSV(_ entries: [ManifestEntry]) -> String {
        var records = [["host", "partner", "folder", "method"].map(CSVField.text)]
        for entry in entries {
            records.append([entry.host, entry.partner, entry.folder, entry.method.rawValue].map(CSVField.text))
        }
        return CSVWriter.text(records)
    }
}
