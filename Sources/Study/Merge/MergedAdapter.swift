import AnalysisCore
import Diagnostics
import Foundation
import JSONText
import TensorIO

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

extension MergeRunner {
    /// The merged folder's files, hosted by `host`. Throws `.invalidData` naming the module, the
    /// layer and both values when the adapters cannot be merged by `method`.
    public static func merge(host: MergeInput, partner: MergeInput, method: MergeMethod) throws(ToolError) -> MergedAdapter {
        try MergeCompatibility.check(host: host, partner: partner, method: method)
        BLASThreads.useSingleThread()
        let names = MergeInput.moduleNames(host: host, partner: partner)
        let keys = MergeInput.blockKeys(of: host, names: names)
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
        let config = method == .cat ? try MergedConfig.concatenated(host, blocks: blocks, keys: keys) : host.configBytes!

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
            OutputFile(MergeRecords.recordFile,
                       text: JSONWriter.string(MergeRecords.recordJSON(result, host: host, partner: partner, partnerUnused: partnerUnused))),
        ]
        return result
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
