import Diagnostics
import JSONText
import TensorIO

/// What the study plan and the assembly need to know of a LoRA adapter: its names, its blocks'
/// shapes and scalings, its warnings; no tensor values. `LoRAAdapter` (read from the files) and
/// `StoredAdapter` (read back from a part's manifest by `tvgeo combine`) both provide it, so one
/// `BlockPlan` and one `LoRAStudy.assemble` serve `analyze`, `analyze --part` and `combine`.
protocol LoRAAdapterLayout {
    var task: String { get }
    var path: String { get }
    var weightsPath: String { get }
    var baseModel: String? { get }
    var blocks: [BlockKey: LoRAFactorPair] { get }
    var ignoredTensors: [String] { get }
    var warnings: [Warning] { get }
}

extension LoRAAdapter: LoRAAdapterLayout {}

/// An adapter's layout as a part manifest records it (the `adapters` entries of `part.json`).
struct StoredAdapter: LoRAAdapterLayout, Equatable {
    var task: String
    var path: String
    var weightsPath: String
    var baseModel: String?
    var blocks: [BlockKey: LoRAFactorPair]
    var ignoredTensors: [String]
    var warnings: [Warning]

    init(_ adapter: some LoRAAdapterLayout) {
        task = adapter.task
        path = adapter.path
        weightsPath = adapter.weightsPath
        baseModel = adapter.baseModel
        blocks = adapter.blocks
        ignoredTensors = adapter.ignoredTensors
        warnings = adapter.warnings
    }

    /// Blocks in (module key, layer) order, so the same adapter always writes the same text.
    var json: JSONValue {
        .object([
            ("task", .string(task)),
            ("path", .string(path)),
            ("weights_path", .string(weightsPath)),
            ("base_model", baseModel.map(JSONValue.string) ?? .null),
            ("ignored_tensors", .array(ignoredTensors.map(JSONValue.string))),
            ("warnings", .array(warnings.map { .string($0.text) })),
            ("blocks", .array(blocks.keys.sorted().map { key in
                let pair = blocks[key]!
                return .object([
                    ("stack", .array(key.module.stack.map(JSONValue.string))),
                    ("module", .array(key.module.path.map(JSONValue.string))),
                    ("layer", .int(key.layer)),
                    ("a_tensor", .string(pair.aTensor)),
                    ("b_tensor", .string(pair.bTensor)),
                    ("module_path", .string(pair.modulePath)),
                    ("rank", .int(pair.rank)),
                    ("out_features", .int(pair.outFeatures)),
                    ("in_features", .int(pair.inFeatures)),
                    // Shortest round-trip decimal: read back bit for bit.
                    ("alpha", .double(pair.alpha)),
                    ("scaling", .double(pair.scaling)),
                ])
            })),
        ])
    }

    /// Reads an entry written by `json`; `file` names the manifest in errors.
    init(json: JSONValue, file: String) throws(ToolError) {
        func fail(_ problem: String) -> ToolError { .invalidData(file: file, location: "adapters", problem: problem) }
        func string(_ value: JSONValue?, _ name: String) throws(ToolError) -> String {
            guard let text = value?.stringValue else { throw fail("\(name) is missing or not a string") }
            return text
        }
        func strings(_ value: JSONValue?, _ name: String) throws(ToolError) -> [String] {
            guard let items = value?.arrayValue else { throw fail("\(name) is missing or not an array") }
            var out: [String] = []
            for item in items { out.append(try string(item, name)) }
            return out
        }
        func int(_ value: JSONValue?, _ name: String) throws(ToolError) -> Int {
            guard let number = value?.intValue else { throw fail("\(name) is missing or not an integer") }
            return number
        }
        func number(_ value: JSONValue?, _ name: String) throws(ToolError) -> Double {
            guard let number = value?.numberValue else { throw fail("\(name) is missing or not a number") }
            return number
        }
        task = try string(json["task"], "task")
        path = try string(json["path"], "path")
        weightsPath = try string(json["weights_path"], "weights_path")
        baseModel = json["base_model"]?.isNull ?? true ? nil : try string(json["base_model"], "base_model")
        ignoredTensors = try strings(json["ignored_tensors"], "ignored_tensors")
        warnings = try strings(json["warnings"], "warnings").map(Warning.init)
        guard let entries = json["blocks"]?.arrayValue else { throw fail("blocks is missing or not an array") }
        var blocks: [BlockKey: LoRAFactorPair] = [:]
        for entry in entries {
            let key = BlockKey(module: ModuleKey(stack: try strings(entry["stack"], "stack"), path: try strings(entry["module"], "module")),
                               layer: try int(entry["layer"], "layer"))
            blocks[key] = LoRAFactorPair(aTensor: try string(entry["a_tensor"], "a_tensor"), bTensor: try string(entry["b_tensor"], "b_tensor"),
                                         modulePath: try string(entry["module_path"], "module_path"), rank: try int(entry["rank"], "rank"),
                                         outFeatures: try int(entry["out_features"], "out_features"),
                                         inFeatures: try int(entry["in_features"], "in_features"),
                                         alpha: try number(entry["alpha"], "alpha"), scaling: try number(entry["scaling"], "scaling"))
        }
        self.blocks = blocks
    }
}
