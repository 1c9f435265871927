import CSVText
import JSONText

/// A merge an all-pairs run wrote.
public struct ManifestEntry: Sendable, Equatable {
    public var host: String
    public var partner: String
    /// The merged folder, relative to the output folder.
    public var folder: String
    public var method: MergeMethod
}

/// An ordered pair an all-pairs run did not merge, and why (the message `tvgeo merge HOST PARTNER`
/// would stop with).
public struct SkippedPair: Sendable, Equatable {
    public var host: String
    public var partner: String
    public var method: MergeMethod
    public var reason: String
}

/// One ordered pair of an all-pairs run, in the manifest's order: written or skipped.
public enum ManifestRow: Sendable, Equatable {
    case written(ManifestEntry)
    case skipped(SkippedPair)
}

/// The records a merge writes: `tvgeo-merge.json` in each merged folder (what was merged, from
/// which files, how), and `manifest.json` and `manifest.csv` beside the folders of an all-pairs run.
public enum MergeRecords {
    public static let recordFile = "tvgeo-merge.json"
    public static let recordSchema = "tvgeo.merge/1"
    public static let manifestSchema = "tvgeo.merge-manifest/2"

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
        func scale(_ scale: MergedBlock.Scale?) -> JSONValue {
            guard let scale else { return .null }
            return .object([("rank", .int(scale.rank)), ("lora_alpha", .number(scale.alpha)), ("scaling", .number(scale.scaling))])
        }
        let blocks: [JSONValue] = merged.blocks.map { block in
            var pairs: [(String, JSONValue)] = [
                ("module", .string(block.module)),
                ("module_path", .string(block.modulePath)),
                ("layer", .int(block.layer)),
                ("origin", .string(block.origin.rawValue)),
                ("lora_A", .string(block.loraA)),
                ("lora_B", .string(block.loraB)),
                ("dtype", .object([("lora_A", .string(block.dtypeA.rawValue)), ("lora_B", .string(block.dtypeB.rawValue))])),
                ("host", scale(block.host)),
                ("partner", scale(block.partner)),
                ("merged", scale(block.merged)),
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
                  + "set for rank r_i + r_j and scaling 1"
                  + (merged.keptModules.isEmpty ? "" : " (kept modules: their own rank and scaling)")
                  + (merged.keptModules.contains { $0.origin == .partnerOnly } ? ", target_modules extended to the partner's modules" : "")
                  + "; every other key unchanged")),
            ("adapter_model", .string(host.isTorchCheckpoint
                ? "adapter_model.safetensors, written from the host's adapter_model.bin (PyTorch): the host's tensor names, "
                  + "dtypes and shapes, LoRA factors replaced, every other tensor's elements copied bit for bit"
                : "the host's adapter_model.safetensors: its tensor names, dtypes and shapes, LoRA factors replaced, "
                  + "every other tensor copied byte for byte")),
            ("kept_tensors", .array(merged.keptTensors.map(JSONValue.string))),
            ("kept_modules", .array(merged.keptModules.map { module in
                .object([("module", .string(module.module)), ("from", .string(module.origin == .hostOnly ? "host" : "partner")),
                         ("task", .string(module.task)), ("layers", .array(module.layers.map(JSONValue.int))),
                         ("note", .string("adapted by this adapter only: its LoRA factors, rank and scaling are kept as they are "
                                          + "(its whole update, not half of it)"))])
            })),
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

    /// `manifest.json` (schema `tvgeo.merge-manifest/2`): the method, the adapters, every merge
    /// written (`merges`) and every ordered pair skipped with its reason (`skipped`), the names
    /// exactly as given.
    static func manifestJSON(_ rows: [ManifestRow], inputs: [MergeInput], method: MergeMethod) -> JSONValue {
        var merges: [JSONValue] = [], skipped: [JSONValue] = []
        for row in rows {
            switch row {
            case .written(let entry):
                merges.append(.object([("host", .string(entry.host)), ("partner", .string(entry.partner)),
                                       ("folder", .string(entry.folder)), ("method", .string(entry.method.rawValue))]))
            case .skipped(let pair):
                skipped.append(.object([("host", .string(pair.host)), ("partner", .string(pair.partner)),
                                        ("method", .string(pair.method.rawValue)), ("reason", .string(pair.reason))]))
            }
        }
        return .object([
            ("schema", .string(manifestSchema)),
            ("tool", .object([("name", .string("tvgeo")), ("version", .string(ToolInfo.version))])),
            ("method", .string(method.rawValue)),
            ("adapters", .array(inputs.map { .object([("task", .string($0.task)), ("path", .string($0.path))]) })),
            ("merges", .array(merges)),
            ("skipped", .array(skipped)),
        ])
    }

    /// `manifest.csv`: `host,partner,folder,method,status,reason`, one row per ordered pair:
    /// `written` with an empty reason, or `skipped` with an empty folder and the reason. Every field
    /// is text (task names may start with a formula character; `CSVField.text`).
    static func manifestCSV(_ rows: [ManifestRow]) -> String {
        var records = [["host", "partner", "folder", "method", "status", "reason"].map(CSVField.text)]
        for row in rows {
            switch row {
            case .written(let entry):
                records.append([entry.host, entry.partner, entry.folder, entry.method.rawValue, "written"].map(CSVField.text) + [.empty])
            case .skipped(let pair):
                records.append([.text(pair.host), .text(pair.partner), .empty, .text(pair.method.rawValue), .text("skipped"), .text(pair.reason)])
            }
        }
        return CSVWriter.text(records)
    }
}
