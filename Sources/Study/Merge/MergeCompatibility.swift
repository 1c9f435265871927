import Diagnostics
import TensorIO

/// What a pair must share before it can be merged: a host with a config, no LoRA on embeddings,
/// one `fan_in_fan_out`, the same modules (for `cat`: at least one module in common) at the same
/// layers with the same shapes, and for `comb` equal ranks and scalings (for `svd` a host scaling
/// other than 0).
public enum MergeCompatibility {
    /// Refuses pairs that `method` cannot merge, naming the module, the layer and both values
    /// (`checkAdapter` for both, then `checkPair`).
    public static func check(host: MergeInput, partner: MergeInput, method: MergeMethod) throws(ToolError) {
        try checkAdapter(host)
        try checkAdapter(partner)
        try checkPair(host: host, partner: partner, method: method)
    }

    /// Refuses an adapter that tvgeo merges with nothing: LoRA on embeddings.
    public static func checkAdapter(_ input: MergeInput) throws(ToolError) {
        if let embedding = input.weights.tensors.first(where: { TensorNaming.role(of: $0.name) == .loraEmbedding }) {
            throw .invalidData(file: input.adapter.weightsPath, location: embedding.name,
                               problem: "LoRA on embeddings (lora_embedding_A/B) is not merged by tvgeo; merge adapters of linear layers only")
        }
    }

    /// Refuses a pair of adapters (each passing `checkAdapter`) that `method` cannot merge: a host
    /// without a config, different orientations, modules, layers or shapes, and the method's own
    /// needs. `--all-pairs` skips the pairs this refuses.
    public static func checkPair(host: MergeInput, partner: MergeInput, method: MergeMethod) throws(ToolError) {
        let hostAdapter = host.adapter, partnerAdapter = partner.adapter
        guard host.configBytes != nil else {
            throw .missingInput(path: LoRAAdapter.parentFolder(of: hostAdapter.weightsPath) + "/adapter_config.json",
                                problem: "no such file; the host of a merge must be a PEFT adapter folder, "
                                         + "because the merged folder carries its adapter_config.json "
                                         + "(\(host.path) is a bare .safetensors file; it can be the partner)")
        }
        if let hostConfig = hostAdapter.config, let partnerConfig = partnerAdapter.config,
           hostConfig.fanInFanOut != partnerConfig.fanInFanOut {
            throw .invalidData(file: partner.configPath!, location: "fan_in_fan_out",
                               problem: "\(partnerConfig.fanInFanOut) here but \(hostConfig.fanInFanOut) in the host \(host.task) "
                                        + "(\(host.configPath!)); the adapters store their updates in different orientations")
        }
        let names = MergeInput.moduleNames(host: host, partner: partner)
        func describe(_ modules: Set<ModuleKey>) -> String {
            modules.map { names[$0]! }.sorted().joined(separator: ", ")
        }
        let hostModules = Set(hostAdapter.blocks.keys.map(\.module))
        let partnerModules = Set(partnerAdapter.blocks.keys.map(\.module))
        let shared = hostModules.intersection(partnerModules)
        if hostModules != partnerModules {
            var differences: [String] = []
            let onlyHost = hostModules.subtracting(partnerModules), onlyPartner = partnerModules.subtracting(hostModules)
            if !onlyHost.isEmpty { differences.append("\(describe(onlyHost)) only in \(host.task)") }
            if !onlyPartner.isEmpty { differences.append("\(describe(onlyPartner)) only in \(partner.task)") }
            let facts = "adapts modules \(describe(partnerModules)) but the host \(host.task) (\(host.path)) "
                        + "adapts \(describe(hostModules)) (\(differences.joined(separator: "; ")))"
            if shared.isEmpty {
                throw .invalidData(file: partner.path, location: nil, problem: facts + "; the adapters have no module in common to merge")
            }
            if method != .cat {
                throw .invalidData(file: partner.path, location: nil,
                                   problem: facts + "; \(method.rawValue) needs the same modules in both adapters "
                                            + "(use --method cat, which merges the shared modules and keeps the others as they are)")
            }
            let partnerOnly = partnerAdapter.blocks.filter { onlyPartner.contains($0.key.module) }
            try MergedConfig.checkCanAdd(partnerOnly, host: host, partner: partner)
        }
        for module in shared.sorted(by: { names[$0]! < names[$1]! }) {
            let hostLayers = hostAdapter.blocks.keys.filter { $0.module == module }.map(\.layer).sorted()
            let partnerLayers = partnerAdapter.blocks.keys.filter { $0.module == module }.map(\.layer).sorted()
            if hostLayers != partnerLayers {
                throw .invalidData(file: partner.path, location: nil,
                                   problem: "module \(names[module]!): "
                                            + "LoRA factors at layers \(partnerLayers.map(String.init).joined(separator: ", ")) "
                                            + "here but at layers \(hostLayers.map(String.init).joined(separator: ", ")) "
                                            + "in the host \(host.task) (\(host.path)); a merge needs the same layers in both adapters")
            }
        }
        let keys = MergeInput.blockPlan(host: host, partner: partner, names: names, partnerOnly: false).filter { $0.origin == .merged }.map(\.key)
        for key in keys {
            let h = hostAdapter.blocks[key]!, p = partnerAdapter.blocks[key]!
            let place = "module \(names[key.module]!), layer \(key.layer)"
            if h.outFeatures != p.outFeatures || h.inFeatures != p.inFeatures {
                throw .invalidData(file: partnerAdapter.weightsPath, location: p.bTensor,
                                   problem: "\(place): ΔW is \(p.outFeatures)×\(p.inFeatures) here but \(h.outFeatures)×\(h.inFeatures) "
                                            + "in the host \(host.task) (\(h.bTensor)); adapters of different base models cannot be merged")
            }
            switch method {
            case .comb:
                if h.rank != p.rank {
                    throw .invalidData(file: partnerAdapter.weightsPath, location: p.aTensor,
                                       problem: "\(place): rank \(p.rank) here but \(h.rank) in the host \(host.task); "
                                                + "comb averages the factors and needs equal ranks (use --method cat or svd)")
                }
                if h.scaling != p.scaling {
                    let partnerScaling = partnerAdapter.config == nil
                        ? "scaling 1 (a bare .safetensors file)"
                        : "scaling \(number(p.scaling)) (lora_alpha \(number(p.alpha)), r \(p.rank))"
                    throw .invalidData(file: partnerAdapter.weightsPath, location: p.aTensor,
                                       problem: "\(place): \(partnerScaling) here "
                                                + "but \(number(h.scaling)) (lora_alpha \(number(h.alpha)), r \(h.rank)) in the host \(host.task); "
                                                + "comb keeps the host's config and needs equal scalings (use --method cat or svd)")
                }
            case .svd:
                if h.scaling == 0 {
                    throw .invalidData(file: host.configPath!, location: "lora_alpha",
                                       problem: "\(place): the host's scaling is 0 (lora_alpha \(number(h.alpha))), "
                                                + "so its config cannot carry the merged update (use --method cat)")
                }
            case .cat:
                break
            }
        }
    }

    /// A scaling or alpha as messages give it: a whole number without ".0".
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}
