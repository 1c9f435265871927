import AnalysisCore
import Diagnostics
import Foundation
import JSONText
import TensorIO

/// How two adapters are merged (docs/merge.md).
public enum MergeMethod: String, CaseIterable, Sendable {
    /// lora_A = ½(A_i + A_j), lora_B = ½(B_i + B_j); needs equal ranks and scalings.
    case comb
    /// The exact average ½(ΔW_i + ΔW_j) at rank r_i + r_j, scaling 1 (the config is rewritten).
    case cat
    /// That average truncated by SVD to the host's rank, for the host's scaling.
    case svd

    public var formula: String {
        switch self {
        case .comb: return "lora_A = (A_i + A_j) / 2, lora_B = (B_i + B_j) / 2"
        case .cat: return "lora_B = [s_i B_i, s_j B_j] / 2, lora_A = [A_i; A_j], scaling 1: B A = (dW_i + dW_j) / 2"
        case .svd: return "s_i B A = U_k S_k V_k^T, the rank-r_i truncated SVD of (dW_i + dW_j) / 2; B = U_k sqrt(S_k) / sqrt(s_i), A = sqrt(S_k) V_k^T / sqrt(s_i)"
        }
    }
}

/// One adapter as a merge input: loaded, with the bytes of its config and the SHA-256 of its files.
public final class MergeInput: Sendable {
    public let adapter: LoRAAdapter
    /// The task name and the path as given.
    public var task: String { adapter.task }
    public var path: String { adapter.path }
    /// `adapter_config.json` beside the weights (nil for a bare .safetensors file) and its bytes.
    public let configPath: String?
    public let configBytes: [UInt8]?
    /// (file name, path, lowercase hex SHA-256) of the config (when there is one) and the weights.
    public let files: [FileDigest]
    let weights: SafetensorsFile

    public struct FileDigest: Sendable, Equatable {
        public var name: String
        public var path: String
        public var sha256: String
    }

    public convenience init(_ argument: AdapterArgument) throws(ToolError) {
        try self.init(try LoRAAdapter(task: argument.task, path: argument.path))
    }

    public init(_ adapter: LoRAAdapter) throws(ToolError) {
        self.adapter = adapter
        var files: [FileDigest] = []
        if adapter.config != nil {
            let folder = FileKind.of(adapter.path) == .directory ? adapter.path : LoRAAdapter.parentFolder(of: adapter.weightsPath)
            let configPath = folder + "/adapter_config.json"
            let bytes = try readWholeFile(configPath)
            // The config LoRAAdapter parsed must be the one copied and hashed.
            guard (try? AdapterConfig.parse(bytes, file: configPath)) == adapter.config else {
                throw .invalidData(file: configPath, location: nil, problem: "the file changed while tvgeo was reading it")
            }
            self.configPath = configPath
            self.configBytes = bytes
            files.append(FileDigest(name: "adapter_config.json", path: configPath, sha256: SHA256.hex(bytes)))
        } else {
            self.configPath = nil
            self.configBytes = nil
        }
        if LoRAAdapter.isTorchCheckpoint(adapter.weightsPath) {
            throw .invalidData(file: adapter.weightsPath, location: nil,
                               problem: "merge reads and writes safetensors adapters; convert this one first with `tvgeo convert \(adapter.weightsPath) adapter_model.safetensors`")
        }
        files.append(FileDigest(name: LoRAAdapter.fileName(of: adapter.weightsPath), path: adapter.weightsPath,
                                sha256: try SHA256.hex(ofFile: adapter.weightsPath)))
        self.files = files
        self.weights = try SafetensorsFile(path: adapter.weightsPath)
    }

}

/// What was merged in one (module, layer) block, as recorded in `tvgeo-merge.json`.
public struct MergedBlock: Sendable, Equatable {
    public var module: String
    public var modulePath: String
    public var layer: Int
    public var loraA: String
    public var loraB: String
    public var dtypeA: TensorDType
    public var dtypeB: TensorDType
    public var hostRank: Int
    public var partnerRank: Int
    public var hostAlpha: Double
    public var partnerAlpha: Double
    public var hostScaling: Double
    public var partnerScaling: Double
    /// The rank, lora_alpha and scaling PEFT uses for the merged factors.
    public var rank: Int
    public var alpha: Double
    public var scaling: Double
    /// svd only: ‖ΔW_avg − ΔW_svd‖_F / ‖ΔW_avg‖_F (NaN when the average is zero).
    public var truncationError: Double?
}

/// A merged adapter folder, not yet written: `adapter_config.json`, `adapter_model.safetensors`,
/// `tvgeo-merge.json`.
public struct MergedAdapter: Sendable {
    public var host: String
    public var partner: String
    public var method: MergeMethod
    public var files: [OutputFile]
    public var blocks: [MergedBlock]
    /// The host's non-LoRA tensors (classifier heads), copied bit for bit.
    public var keptTensors: [String]
    /// Whether `adapter_config.json` is the host's, byte for byte (comb, svd), or rewritten (cat).
    public var configUnchanged: Bool
    public var warnings: [Warning]
}

/// One row of an all-pairs manifest.
public struct ManifestEntry: Sendable, Equatable {
    public var host: String
    public var partner: String
    /// The merged folder, relative to the output folder.
    public var folder: String
    public var method: MergeMethod
}

/// `tvgeo merge`: merges two LoRA adapters into a PEFT adapter folder hosted by the first one
/// (its config, its classifier heads, its tensor names and dtypes), or every ordered pair of a list.
public enum MergeRunner {
    public static let recordFile = "tvgeo-merge.json"
    public static let recordSchema = "tvgeo.merge/1"
    public static let manifestSchema = "tvgeo.merge-manifest/1"

    // MARK: Commands

    /// Merges `partner` into `host` and writes the folder `out` atomically (a folder tvgeo did not
    /// write is refused with exit 73 before anything is computed).
    @discardableResult
    public static func run(host: AdapterArgument, partner: AdapterArgument, method: MergeMethod,
                           out: String) throws(ToolError) -> MergedAdapter {
        try AdapterArgument.checkUnique([host, partner])
        try OutputFolder.checkTarget(out)
        let inputs = [try MergeInput(host), try MergeInput(partner)]
        let merged = try merge(host: inputs[0], partner: inputs[1], method: method)
        try OutputFolder.write(merged.files, to: out)
        return merged
    }

    /// Merges every ordered pair (host ≠ partner) into `out/<host>+<partner>/` and writes
    /// `out/manifest.json` and `out/manifest.csv`. Every pair is checked before anything is
    /// written; the whole folder is built beside `out` and moved into place at the end, so a
    /// failed run leaves an earlier output as it was. `progress` is called after each pair with
    /// (done, total, the pair, its warnings).
    @discardableResult
    public static func runAllPairs(_ arguments: [AdapterArgument], method: MergeMethod, out: String,
                                   progress: ((Int, Int, ManifestEntry, [Warning]) -> Void)? = nil) throws(ToolError) -> [ManifestEntry] {
        try AdapterArgument.checkUnique(arguments)
        guard arguments.count >= 2 else { throw .usage("--all-pairs needs at least two adapters") }
        try OutputFolder.checkTarget(out)
        var inputs: [MergeInput] = []
        for argument in arguments { inputs.append(try MergeInput(argument)) }
        var pairs: [(Int, Int, ManifestEntry)] = []
        var folders: [String: String] = [:]
        for i in inputs.indices {
            for j in inputs.indices where j != i {
                let folder = OutputNaming.component(inputs[i].task) + "+" + OutputNaming.component(inputs[j].task)
                if let other = folders[folder] {
                    throw .usage("the merges \(other) and \(inputs[i].task)+\(inputs[j].task) would both be written to \(folder); rename the tasks with name=path")
                }
                folders[folder] = "\(inputs[i].task)+\(inputs[j].task)"
                pairs.append((i, j, ManifestEntry(host: inputs[i].task, partner: inputs[j].task, folder: folder, method: method)))
            }
        }
        for (i, j, _) in pairs { try checkCompatible(host: inputs[i], partner: inputs[j], method: method) }
        try OutputFolder.writeFolder(at: out) { staging throws(ToolError) in
            for (done, (i, j, entry)) in pairs.enumerated() {
                let merged = try merge(host: inputs[i], partner: inputs[j], method: method)
                try OutputFolder.write(merged.files, to: staging + "/" + entry.folder)
                progress?(done + 1, pairs.count, entry, merged.warnings)
            }
            let entries = pairs.map(\.2)
            try OutputFolder.writeFiles([
                OutputFile("manifest.json", text: JSONWriter.string(manifestJSON(entries, inputs: inputs, method: method))),
                OutputFile("manifest.csv", text: manifestCSV(entries)),
            ], into: staging, reportedAs: out)
        }
        return pairs.map(\.2)
    }

    // MARK: The merge

    /// The merged folder's files, hosted by `host`. Throws `.invalidData` naming the module, the
    /// layer and both values when the adapters cannot be merged by `method`.
    public static func merge(host: MergeInput, partner: MergeInput, method: MergeMethod) throws(ToolError) -> MergedAdapter {
        try checkCompatible(host: host, partner: partner, method: method)
        BLASThreads.useSingleThread()
        let names = moduleNames(host, partner)
        let keys = host.adapter.blocks.keys.sorted { names[$0.module]! == names[$1.module]! ? $0.layer < $1.layer : names[$0.module]! < names[$1.module]! }
        let outputName = "merge \(host.task)+\(partner.task)"
        var records: [String: TensorRecord] = [:]
        var blocks: [MergedBlock] = []
        for key in keys {
            let hostPair = host.adapter.blocks[key]!, partnerPair = partner.adapter.blocks[key]!
            let hostFactors = try factors(host, key), partnerFactors = try factors(partner, key)
            let dtypeA = host.weights.info(hostPair.aTensor)!.dtype, dtypeB = host.weights.info(hostPair.bTensor)!.dtype
            var block = MergedBlock(module: names[key.module]!, modulePath: hostPair.modulePath, layer: key.layer,
                                    loraA: hostPair.aTensor, loraB: hostPair.bTensor, dtypeA: dtypeA, dtypeB: dtypeB,
                                    hostRank: hostPair.rank, partnerRank: partnerPair.rank,
                                    hostAlpha: hostPair.alpha, partnerAlpha: partnerPair.alpha,
                                    hostScaling: hostPair.scaling, partnerScaling: partnerPair.scaling,
                                    rank: hostPair.rank, alpha: hostPair.alpha, scaling: hostPair.scaling, truncationError: nil)
            let merged: LoRAFactors
            switch method {
            case .comb:
                let b = LoRAMerge.average(hostFactors.b.values, partnerFactors.b.values, round: dtypeB.nearest)
                let a = LoRAMerge.average(hostFactors.aTransposed.values, partnerFactors.aTransposed.values, round: dtypeA.nearest)
                merged = LoRAFactors(b: Matrix(rows: hostPair.outFeatures, cols: hostPair.rank, values: b),
                                     aTransposed: Matrix(rows: hostPair.inFeatures, cols: hostPair.rank, values: a),
                                     scaling: hostPair.scaling)
            case .cat:
                merged = LoRAMerge.concatenate(hostFactors, partnerFactors)
                block.rank = merged.rank
                block.alpha = Double(merged.rank)
                block.scaling = 1
            case .svd:
                let result = try LoRAMerge.truncatedAverage(hostFactors, partnerFactors, rank: hostPair.rank, scaling: hostPair.scaling)
                merged = result.factors
                block.truncationError = result.relativeError
            }
            // A is stored r × d_in row-major: exactly Aᵀ column-major. B is stored d_out × r row-major.
            records[hostPair.aTensor] = try TensorRecord(name: hostPair.aTensor, dtype: dtypeA, shape: [merged.rank, merged.inFeatures],
                                                         values: merged.aTransposed.values, file: outputName)
            records[hostPair.bTensor] = try TensorRecord(name: hostPair.bTensor, dtype: dtypeB, shape: [merged.outFeatures, merged.rank],
                                                         values: merged.b.rowMajor, file: outputName)
            blocks.append(block)
        }
        var kept: [String] = []
        var tensors: [TensorRecord] = []
        for tensor in host.weights.tensors {
            if let record = records[tensor.name] {
                tensors.append(record)
            } else {
                tensors.append(TensorRecord(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape,
                                            bytes: try host.weights.rawBytes(tensor.name)))
                kept.append(tensor.name)
            }
        }
        var metadata = host.weights.metadata
        metadata["format"] = "pt"
        let weights = try SafetensorsWriter.data(tensors, metadata: metadata, file: outputName)
        let config = method == .cat ? try concatenatedConfig(host, blocks: blocks, keys: keys) : host.configBytes!

        var warnings = host.adapter.warnings + partner.adapter.warnings
        if let a = host.adapter.baseModel, let b = partner.adapter.baseModel, a != b {
            warnings.append(Warning("\(host.task) names base model \(a) but \(partner.task) names \(b); shapes agree, so they are merged anyway"))
        }
        var result = MergedAdapter(host: host.task, partner: partner.task, method: method, files: [], blocks: blocks,
                                   keptTensors: kept, configUnchanged: method != .cat, warnings: warnings)
        let partnerUnused = partner.weights.tensors.map(\.name).filter { name in
            !partner.adapter.blocks.values.contains { $0.aTensor == name || $0.bTensor == name }
        }
        result.files = [
            OutputFile("adapter_config.json", Data(config)),
            OutputFile("adapter_model.safetensors", weights),
            OutputFile(recordFile, text: JSONWriter.string(recordJSON(result, host: host, partner: partner, partnerUnused: partnerUnused))),
        ]
        return result
    }

    private static func factors(_ input: MergeInput, _ key: BlockKey) throws(ToolError) -> LoRAFactors {
        let pair = input.adapter.blocks[key]!
        var b = [Double](repeating: 0, count: pair.outFeatures * pair.rank)
        var a = [Double](repeating: 0, count: pair.inFeatures * pair.rank)
        try b.withUnsafeMutableBufferPointer { b throws(ToolError) in
            try a.withUnsafeMutableBufferPointer { a throws(ToolError) in
                try input.adapter.copyFactors(key, b: b, aTransposed: a)
            }
        }
        return LoRAFactors(b: Matrix(rows: pair.outFeatures, cols: pair.rank, values: b),
                           aTransposed: Matrix(rows: pair.inFeatures, cols: pair.rank, values: a), scaling: pair.scaling)
    }

    static func moduleNames(_ host: MergeInput, _ partner: MergeInput) -> [ModuleKey: String] {
        TensorNaming.moduleNames(for: host.adapter.blocks.keys.map(\.module) + partner.adapter.blocks.keys.map(\.module))
    }

    // MARK: Checks

    /// Refuses pairs that `method` cannot merge, naming the module, the layer and both values.
    public static func checkCompatible(host: MergeInput, partner: MergeInput, method: MergeMethod) throws(ToolError) {
        let hostAdapter = host.adapter, partnerAdapter = partner.adapter
        guard host.configBytes != nil else {
            throw .missingInput(path: LoRAAdapter.parentFolder(of: hostAdapter.weightsPath) + "/adapter_config.json",
                                problem: "no such file; the host of a merge must be a PEFT adapter folder, because the merged folder carries its adapter_config.json (\(host.path) is a bare .safetensors file; it can be the partner)")
        }
        for input in [host, partner] {
            if let embedding = input.weights.tensors.first(where: { TensorNaming.role(of: $0.name) == .loraEmbedding }) {
                throw .invalidData(file: input.adapter.weightsPath, location: embedding.name,
                                   problem: "LoRA on embeddings (lora_embedding_A/B) is not merged by tvgeo; merge adapters of linear layers only")
            }
        }
        if let hostConfig = hostAdapter.config, let partnerConfig = partnerAdapter.config,
           hostConfig.fanInFanOut != partnerConfig.fanInFanOut {
            throw .invalidData(file: partner.configPath!, location: "fan_in_fan_out",
                               problem: "\(partnerConfig.fanInFanOut) here but \(hostConfig.fanInFanOut) in the host \(host.task) (\(host.configPath!)); the adapters store their updates in different orientations")
        }
        let names = moduleNames(host, partner)
        func describe(_ modules: Set<ModuleKey>) -> String {
            modules.map { names[$0]! }.sorted().joined(separator: ", ")
        }
        let hostModules = Set(hostAdapter.blocks.keys.map(\.module))
        let partnerModules = Set(partnerAdapter.blocks.keys.map(\.module))
        if hostModules != partnerModules {
            var differences: [String] = []
            let onlyHost = hostModules.subtracting(partnerModules), onlyPartner = partnerModules.subtracting(hostModules)
            if !onlyHost.isEmpty { differences.append("\(describe(onlyHost)) only in \(host.task)") }
            if !onlyPartner.isEmpty { differences.append("\(describe(onlyPartner)) only in \(partner.task)") }
            throw .invalidData(file: partner.path, location: nil,
                               problem: "adapts modules \(describe(partnerModules)) but the host \(host.task) (\(host.path)) adapts \(describe(hostModules)) (\(differences.joined(separator: "; "))); a merge needs the same modules in both adapters")
        }
        for module in hostModules.sorted(by: { names[$0]! < names[$1]! }) {
            let hostLayers = hostAdapter.blocks.keys.filter { $0.module == module }.map(\.layer).sorted()
            let partnerLayers = partnerAdapter.blocks.keys.filter { $0.module == module }.map(\.layer).sorted()
            if hostLayers != partnerLayers {
                throw .invalidData(file: partner.path, location: nil,
                                   problem: "module \(names[module]!): LoRA factors at layers \(partnerLayers.map(String.init).joined(separator: ", ")) here but at layers \(hostLayers.map(String.init).joined(separator: ", ")) in the host \(host.task) (\(host.path)); a merge needs the same layers in both adapters")
            }
        }
        let keys = hostAdapter.blocks.keys.sorted { names[$0.module]! == names[$1.module]! ? $0.layer < $1.layer : names[$0.module]! < names[$1.module]! }
        for key in keys {
            let h = hostAdapter.blocks[key]!, p = partnerAdapter.blocks[key]!
            let place = "module \(names[key.module]!), layer \(key.layer)"
            if h.outFeatures != p.outFeatures || h.inFeatures != p.inFeatures {
                throw .invalidData(file: partnerAdapter.weightsPath, location: p.bTensor,
                                   problem: "\(place): ΔW is \(p.outFeatures)×\(p.inFeatures) here but \(h.outFeatures)×\(h.inFeatures) in the host \(host.task) (\(h.bTensor)); adapters of different base models cannot be merged")
            }
            switch method {
            case .comb:
                if h.rank != p.rank {
                    throw .invalidData(file: partnerAdapter.weightsPath, location: p.aTensor,
                                       problem: "\(place): rank \(p.rank) here but \(h.rank) in the host \(host.task); comb averages the factors and needs equal ranks (use --method cat or svd)")
                }
                if h.scaling != p.scaling {
                    let partnerScaling = partnerAdapter.config == nil
                        ? "scaling 1 (a bare .safetensors file)"
                        : "scaling \(number(p.scaling)) (lora_alpha \(number(p.alpha)), r \(p.rank))"
                    throw .invalidData(file: partnerAdapter.weightsPath, location: p.aTensor,
                                       problem: "\(place): \(partnerScaling) here but \(number(h.scaling)) (lora_alpha \(number(h.alpha)), r \(h.rank)) in the host \(host.task); comb keeps the host's config and needs equal scalings (use --method cat or svd)")
                }
            case .svd:
                if h.scaling == 0 {
                    throw .invalidData(file: host.configPath!, location: "lora_alpha",
                                       problem: "\(place): the host's scaling is 0 (lora_alpha \(number(h.alpha))), so its config cannot carry the merged update (use --method cat)")
                }
            case .cat:
                break
            }
        }
    }

    // MARK: Config of a cat merge

    /// The host's config with `r`, `lora_alpha`, `rank_pattern`, `alpha_pattern` and `use_rslora`
    /// set so that PEFT uses rank r_i + r_j and scaling 1 for every block; every other key is kept
    /// (same order, same values). `use_rslora`, `rank_pattern` and `alpha_pattern` are written only
    /// when the host's config has them or a pattern is needed: older PEFT releases refuse unknown keys.
    static func concatenatedConfig(_ host: MergeInput, blocks: [MergedBlock], keys: [BlockKey]) throws(ToolError) -> [UInt8] {
        let configPath = host.configPath!
        guard let document = try? JSONParser.parse(host.configBytes!), var pairs = document.objectPairs else {
            throw .invalidData(file: configPath, location: nil, problem: "expected a JSON object")
        }
        let ranks = blocks.map(\.rank)
        var counts: [Int: Int] = [:]
        for rank in ranks { counts[rank, default: 0] += 1 }
        let defaultRank = counts.max { $0.value == $1.value ? $0.key > $1.key : $0.value < $1.value }!.key
        let entries = zip(keys, blocks).map { PatternEntry(module: $0.0.module, path: $0.1.modulePath, layer: $0.0.layer, value: $0.1.rank) }
        let patterns = try patternKeys(entries, defaultValue: defaultRank)

        func set(_ key: String, _ value: JSONValue, addIfMissing: Bool) {
            if let index = pairs.firstIndex(where: { $0.0 == key }) {
                pairs[index].1 = value
            } else if addIfMissing {
                pairs.append((key, value))
            }
        }
        set("r", .int(defaultRank), addIfMissing: true)
        set("lora_alpha", .int(defaultRank), addIfMissing: true)
        set("use_rslora", .bool(false), addIfMissing: false)
        set("rank_pattern", .object(patterns.map { ($0.0, .int($0.1)) }), addIfMissing: !patterns.isEmpty)
        set("alpha_pattern", .object(patterns.map { ($0.0, .int($0.1)) }), addIfMissing: !patterns.isEmpty)
        let bytes = Array(JSONWriter.string(.object(pairs)).utf8)

        // The written config must give every block rank r_i + r_j and scaling 1 under PEFT's rules.
        let check = try AdapterConfig.parse(bytes, file: configPath)
        for block in blocks {
            let (rank, alpha) = check.rankAndAlpha(forModulePath: block.modulePath)
            guard rank == block.rank, check.scaling(rank: rank, alpha: alpha) == 1 else {
                throw .internalError("the cat config gives \(block.modulePath) rank \(rank), alpha \(alpha); expected rank \(block.rank), scaling 1")
            }
        }
        return bytes
    }

    struct PatternEntry {
        var module: ModuleKey
        var path: String
        var layer: Int
        var value: Int
    }

    /// `rank_pattern` keys (PEFT's rule: a key matches a module path equal to it or ending in
    /// `.key`, as a regular expression) giving each entry its value when `defaultValue` is not it:
    /// one key per module when all its layers share a value (the shortest suffix of its in-layer
    /// path that matches no module wanting another value), otherwise one key per layer.
    static func patternKeys(_ entries: [PatternEntry], defaultValue: Int) throws(ToolError) -> [(String, Int)] {
        func acceptable(_ key: String, for targets: [PatternEntry], value: Int) -> Bool {
            let matched = entries.filter { AdapterConfig.pattern(key, matches: $0.path) }
            return targets.allSatisfy { target in matched.contains { $0.path == target.path } }
                && matched.allSatisfy { $0.value == value }
        }
        var keys: [(String, Int)] = []
        let modules = Array(Set(entries.map(\.module))).sorted()
        for module in modules {
            let members = entries.filter { $0.module == module }.sorted { $0.layer < $1.layer }
            let values = Set(members.map(\.value))
            guard values != [defaultValue] else { continue }
            if values.count == 1, let value = values.first {
                let path = module.path
                if let key = (1...max(1, path.count)).lazy.map({ path.suffix($0).joined(separator: ".") })
                    .first(where: { acceptable($0, for: members, value: value) }) {
                    keys.append((key, value))
                    continue
                }
            }
            for member in members where member.value != defaultValue {
                let components = member.path.split(separator: ".").map(String.init)
                let minimum = module.stack.isEmpty ? 1 : module.path.count + 1
                let candidates = (min(minimum, components.count)...components.count).map { components.suffix($0).joined(separator: ".") }
                guard let key = candidates.first(where: { acceptable($0, for: [member], value: member.value) }) else {
                    throw .internalError("no rank_pattern key selects \(member.path) alone")
                }
                keys.append((key, member.value))
            }
        }
        return keys
    }

    // MARK: Records

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
                ("host", .object([("rank", .int(block.hostRank)), ("lora_alpha", .number(block.hostAlpha)), ("scaling", .number(block.hostScaling))])),
                ("partner", .object([("rank", .int(block.partnerRank)), ("lora_alpha", .number(block.partnerAlpha)), ("scaling", .number(block.partnerScaling))])),
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
                : "the host's adapter_config.json with r, lora_alpha, rank_pattern, alpha_pattern (and use_rslora) set for rank r_i + r_j and scaling 1; every other key unchanged")),
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

    static func manifestCSV(_ entries: [ManifestEntry]) -> String {
        var lines = ["host,partner,folder,method"]
        for entry in entries {
            lines.append([entry.host, entry.partner, entry.folder, entry.method.rawValue].map(MatrixCSV.field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}
