import AnalysisCore
import Diagnostics
import Foundation
import JSONText
import TensorIO

/// What was written for one (module, layer) block, as recorded in `tvgeo-merge.json`.
public struct MergedBlock: Sendable, Equatable {
    /// Where the block's factors come from.
    public enum Origin: String, Sendable {
        /// Both adapters adapt the module: the factors are their merge.
        case merged = "both"
        /// Only the host adapts the module (`cat`): the host's factors, kept as they are.
        case hostOnly = "host only"
        /// Only the partner adapts the module (`cat`): the partner's factors, kept as they are.
        case partnerOnly = "partner only"
    }

    /// A rank, its lora_alpha and PEFT's scaling.
    public struct Scale: Sendable, Equatable {
        public var rank: Int
        public var alpha: Double
        public var scaling: Double
    }

    public var module: String
    public var modulePath: String
    public var layer: Int
    /// The written tensors' names and dtypes.
    public var loraA: String
    public var loraB: String
    public var dtypeA: TensorDType
    public var dtypeB: TensorDType
    public var origin: Origin
    /// The inputs' factors here (nil for the adapter that does not adapt the module).
    public var host: Scale?
    public var partner: Scale?
    /// The rank, lora_alpha and scaling PEFT uses for the written factors.
    public var merged: Scale
    /// svd only: ‖ΔW_avg − ΔW_svd‖_F / ‖ΔW_avg‖_F (NaN when the average is zero).
    public var truncationError: Double?
}

/// A module that only one adapter of a `cat` merge adapts, written with that adapter's factors as they are.
public struct KeptModule: Sendable, Equatable {
    public var module: String
    public var origin: MergedBlock.Origin
    /// The task of the adapter whose factors are kept.
    public var task: String
    public var layers: [Int]
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
    /// `cat` only: modules one adapter adapts and the other does not, kept as they are.
    public var keptModules: [KeptModule]
    /// Whether `adapter_config.json` is the host's, byte for byte (comb, svd), or rewritten (cat).
    public var configUnchanged: Bool
    public var warnings: [Warning]
}

extension MergeRunner {
    /// The merged folder's files, hosted by `host`. Throws `.invalidData` naming the module, the
    /// layer and both values when the adapters cannot be merged by `method`. The weights are
    /// written as safetensors whatever the host's file is (`adapter_model.bin` included), with the
    /// host's tensor names, dtypes and non-LoRA tensors. An adapter whose ΔW is 0 in every block
    /// (untrained) is merged anyway, with a warning naming it.
    public static func merge(host: MergeInput, partner: MergeInput, method: MergeMethod) throws(ToolError) -> MergedAdapter {
        try MergeCompatibility.check(host: host, partner: partner, method: method)
        BLASThreads.useSingleThread()
        let names = MergeInput.moduleNames(host: host, partner: partner)
        let plan = MergeInput.blockPlan(host: host, partner: partner, names: names, partnerOnly: method == .cat)
        let outputName = "merge \(host.task)+\(partner.task)"
        var records: [String: TensorRecord] = [:]
        var blocks: [MergedBlock] = []
        var hostUpdate = UpdateCheck(), partnerUpdate = UpdateCheck()
        for (key, origin) in plan {
            switch origin {
            case .merged:
                let hostFactors = try factors(host, key), partnerFactors = try factors(partner, key)
                hostUpdate.add(hostFactors)
                partnerUpdate.add(partnerFactors)
                let (block, merged) = try mergeBlock(key, host: host, partner: partner, method: method, names: names,
                                                     hostFactors: hostFactors, partnerFactors: partnerFactors)
                // A is stored r × d_in row-major: exactly Aᵀ column-major. B is stored d_out × r row-major.
                records[block.loraA] = try TensorRecord(name: block.loraA, dtype: block.dtypeA, shape: [merged.rank, merged.inFeatures],
                                                        values: merged.aTransposed.values, file: outputName)
                records[block.loraB] = try TensorRecord(name: block.loraB, dtype: block.dtypeB, shape: [merged.outFeatures, merged.rank],
                                                        values: merged.b.rowMajor, file: outputName)
                blocks.append(block)
            case .hostOnly, .partnerOnly:
                let source = origin == .hostOnly ? host : partner
                let pair = source.adapter.blocks[key]!
                if origin == .hostOnly { hostUpdate.add(try factors(host, key)) } else { partnerUpdate.add(try factors(partner, key)) }
                let (nameA, nameB) = origin == .hostOnly ? (pair.aTensor, pair.bTensor) : try hostStyleNames(pair, host: host)
                let infoA = source.weights.info(pair.aTensor)!, infoB = source.weights.info(pair.bTensor)!
                records[nameA] = TensorRecord(name: nameA, dtype: infoA.dtype, shape: infoA.shape, bytes: try source.weights.rawBytes(pair.aTensor))
                records[nameB] = TensorRecord(name: nameB, dtype: infoB.dtype, shape: infoB.shape, bytes: try source.weights.rawBytes(pair.bTensor))
                let scale = MergedBlock.Scale(rank: pair.rank, alpha: pair.alpha, scaling: pair.scaling)
                blocks.append(MergedBlock(module: names[key.module]!, modulePath: pair.modulePath, layer: key.layer,
                                          loraA: nameA, loraB: nameB, dtypeA: infoA.dtype, dtypeB: infoB.dtype, origin: origin,
                                          host: origin == .hostOnly ? scale : nil, partner: origin == .partnerOnly ? scale : nil,
                                          merged: MergedBlock.Scale(rank: pair.rank, alpha: pair.scaling * Double(pair.rank), scaling: pair.scaling),
                                          truncationError: nil))
            }
        }
        var kept: [String] = []
        var tensors: [TensorRecord] = []
        for tensor in host.weights.tensors {
            if let record = records.removeValue(forKey: tensor.name) {
                tensors.append(record)
            } else {
                tensors.append(TensorRecord(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape,
                                            bytes: try host.weights.rawBytes(tensor.name)))
                kept.append(tensor.name)
            }
        }
        // The partner's modules that the host does not adapt (cat), under the host's naming.
        tensors += records.values.sorted { $0.name < $1.name }
        var metadata = host.metadata
        metadata["format"] = "pt"
        let weights = try SafetensorsWriter.data(tensors, metadata: metadata, file: outputName)
        let keys = plan.map(\.key)
        let config = method == .cat ? try MergedConfig.concatenated(host, blocks: blocks, keys: keys) : host.configBytes!

        var warnings = host.adapter.warnings + partner.adapter.warnings
        if let a = host.adapter.baseModel, let b = partner.adapter.baseModel, a != b {
            warnings.append(Warning("\(host.task) names base model \(a) but \(partner.task) names \(b); shapes agree, so they are merged anyway"))
        }
        for (input, update) in [(host, hostUpdate), (partner, partnerUpdate)] {
            if let warning = update.untrainedWarning(input) { warnings.append(warning) }
        }
        let keptModules = Self.keptModules(blocks, host: host, partner: partner)
        for module in keptModules {
            let (owner, other) = module.origin == .hostOnly ? ("the host " + host.task, partner.task) : ("the partner " + partner.task, host.task)
            warnings.append(Warning("cat: module \(module.module) is adapted by \(owner) only (not by \(other)); its LoRA factors are kept "
                                    + "as they are at layer\(module.layers.count == 1 ? "" : "s") "
                                    + "\(module.layers.map(String.init).joined(separator: ", ")): that adapter's whole update, not half of it"))
        }
        var result = MergedAdapter(host: host.task, partner: partner.task, method: method, files: [], blocks: blocks,
                                   keptTensors: kept, keptModules: keptModules, configUnchanged: method != .cat, warnings: warnings)
        let partnerUnused = partner.weights.tensors.map(\.name).filter { name in
            !partner.adapter.blocks.values.contains { $0.aTensor == name || $0.bTensor == name }
        }
        result.files = [
            OutputFile("adapter_config.json", Data(config)),
            OutputFile("adapter_model.safetensors", weights),
            OutputFile(MergeRecords.recordFile,
                       text: JSONWriter.string(MergeRecords.recordJSON(result, host: host, partner: partner, partnerUnused: partnerUnused))),
        ]
        return result
    }

    /// One block both adapters adapt, merged by `method`: its record and the merged factors.
    private static func mergeBlock(_ key: BlockKey, host: MergeInput, partner: MergeInput, method: MergeMethod, names: [ModuleKey: String],
                                   hostFactors: LoRAFactors, partnerFactors: LoRAFactors) throws(ToolError) -> (MergedBlock, LoRAFactors) {
        let hostPair = host.adapter.blocks[key]!, partnerPair = partner.adapter.blocks[key]!
        let dtypeA = host.weights.info(hostPair.aTensor)!.dtype, dtypeB = host.weights.info(hostPair.bTensor)!.dtype
        let hostScale = MergedBlock.Scale(rank: hostPair.rank, alpha: hostPair.alpha, scaling: hostPair.scaling)
        var block = MergedBlock(module: names[key.module]!, modulePath: hostPair.modulePath, layer: key.layer,
                                loraA: hostPair.aTensor, loraB: hostPair.bTensor, dtypeA: dtypeA, dtypeB: dtypeB, origin: .merged,
                                host: hostScale,
                                partner: MergedBlock.Scale(rank: partnerPair.rank, alpha: partnerPair.alpha, scaling: partnerPair.scaling),
                                merged: hostScale, truncationError: nil)
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
            block.merged = MergedBlock.Scale(rank: merged.rank, alpha: Double(merged.rank), scaling: 1)
        case .svd:
            let result = try LoRAMerge.truncatedAverage(hostFactors, partnerFactors, rank: hostPair.rank, scaling: hostPair.scaling)
            merged = result.factors
            block.truncationError = result.relativeError
        }
        return (block, merged)
    }

    /// The names the host's file would give a partner's factors: the host's own prefix
    /// (`base_model.model.`) and tail (`.lora_A.weight`, or with an adapter name `.lora_A.default.weight`)
    /// around the partner's module path. Refuses a name the host already uses.
    private static func hostStyleNames(_ pair: LoRAFactorPair, host: MergeInput) throws(ToolError) -> (String, String) {
        let template = host.adapter.blocks.min { $0.key < $1.key }!.value
        func rename(_ hostName: String, _ partnerName: String, factor: String) -> String {
            let parts = hostName.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let moduleParts = template.modulePath.split(separator: ".", omittingEmptySubsequences: false).count
            guard let factorIndex = parts.lastIndex(of: factor), factorIndex >= moduleParts,
                  parts[(factorIndex - moduleParts)..<factorIndex].joined(separator: ".") == template.modulePath else { return partnerName }
            let prefix = parts[..<(factorIndex - moduleParts)] + [pair.modulePath] + parts[factorIndex...]
            return prefix.joined(separator: ".")
        }
        let names = (rename(template.aTensor, pair.aTensor, factor: "lora_A"), rename(template.bTensor, pair.bTensor, factor: "lora_B"))
        for name in [names.0, names.1] where host.weights.info(name) != nil {
            throw .invalidData(file: host.adapter.weightsPath, location: name,
                               problem: "the host holds a tensor of this name, which the partner's module \(pair.modulePath) needs; "
                                        + "its factors cannot be kept")
        }
        return names
    }

    /// The modules of `blocks` kept from one adapter, in block order, with their layers.
    private static func keptModules(_ blocks: [MergedBlock], host: MergeInput, partner: MergeInput) -> [KeptModule] {
        var modules: [KeptModule] = []
        for block in blocks where block.origin != .merged {
            if let index = modules.firstIndex(where: { $0.module == block.module }) {
                modules[index].layers.append(block.layer)
            } else {
                modules.append(KeptModule(module: block.module, origin: block.origin,
                                          task: block.origin == .hostOnly ? host.task : partner.task, layers: [block.layer]))
            }
        }
        return modules
    }

    /// One block of `input` as Doubles: B (d_out × r), Aᵀ (d_in × r) and PEFT's scaling.
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
}

/// Whether an adapter changes anything: some block with ΔW = s·B·A ≠ 0 (B and A not all zero,
/// s ≠ 0), and whether any lora_B is not all zero (PEFT initialises every lora_B to zero).
struct UpdateCheck {
    var hasUpdate = false
    var hasNonzeroB = false

    mutating func add(_ factors: LoRAFactors) {
        let bIsZero = factors.b.values.allSatisfy { $0 == 0 }
        hasNonzeroB = hasNonzeroB || !bIsZero
        hasUpdate = hasUpdate || !(bIsZero || factors.scaling == 0 || factors.aTransposed.values.allSatisfy { $0 == 0 })
    }

    /// The warning for an adapter whose ΔW is 0 in every block, or nil.
    func untrainedWarning(_ input: MergeInput) -> Warning? {
        guard !hasUpdate else { return nil }
        let cause = hasNonzeroB
            ? "ΔW = s·B·A is 0 in every block (lora_A all zero or scaling 0)"
            : "every lora_B is zero (PEFT's initial value), so ΔW = 0 in every block"
        return Warning("\(input.task) (\(input.path)) looks untrained: \(cause); "
                       + "merged anyway (merging it mainly weakens the other adapter's update)")
    }
}
