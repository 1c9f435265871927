import AnalysisCore
import Diagnostics
import Dispatch
import Foundation
import TensorIO

/// The LoRA pipeline (sibling of `FullFineTuneStudy`): loads the adapters, finds the
/// (module, layer) blocks they all have, hands each block to the core (blocks run in parallel,
/// one BLAS thread each) and gathers the result.
public enum LoRAStudy {
    /// `modules` restricts the study (the `--modules` filter; nil: every module the adapters share).
    public static func analyze(_ arguments: [AdapterArgument], modules: [String]? = nil,
                               progress: StudyProgress? = nil) throws(ToolError) -> StudyAnalysis {
        try analyze(try load(arguments), modules: modules, progress: progress)
    }

    /// Reads the adapters' configs and headers (tensor values are read per block, later).
    static func load(_ arguments: [AdapterArgument]) throws(ToolError) -> [LoRAAdapter] {
        try AdapterArgument.checkUnique(arguments)
        // Adapters are read and validated on all cores; a failure is reported for the first bad
        // argument in command-line order, whichever thread saw it first.
        return try ConcurrentWork.map(count: arguments.count, onFailure: .runAllThenFirstInOrder) { index throws(ToolError) in
            do throws(ToolError) {
                return try LoRAAdapter(task: arguments[index].task, path: arguments[index].path)
            } catch {
                // A full checkpoint where an adapter was expected: the study can take it with --base.
                let path = arguments[index].path
                if case .missingInput(let file, let problem) = error, FileKind.of(path + "/adapter_config.json") != .regular,
                   Checkpoint.file(inFolder: path) != nil {
                    throw .missingInput(path: file, problem: problem + "; for full fine-tuning pass the base checkpoint with --base")
                }
                throw error
            }
        }
    }

    public static func analyze(_ adapters: [LoRAAdapter], modules: [String]? = nil,
                               progress: StudyProgress? = nil) throws(ToolError) -> StudyAnalysis {
        let (plan, warnings) = try plan(adapters, modules: modules)
        BLASThreads.useSingleThread()
        // Each worker reuses one StackedBlock for all its blocks, so the stacks are allocated
        // once per worker, not once per block.
        let results = try ConcurrentWork.map(count: plan.blocks.count, onFailure: .stopClaiming, progress: progress,
                                             makeScratch: { StackedBlock() }) { (index, stacks: inout StackedBlock) throws(ToolError) in
            let key = plan.blocks[index]
            let holders = plan.holders[key]!
            return BlockResult(try computeBlock(key, of: holders.map { adapters[$0] }, stacks: &stacks), holders: holders, count: adapters.count)
        }
        return try assemble(adapters: adapters, plan: plan, results: results, warnings: warnings,
                            keptModules: modules.map(Set.init))
    }

    /// The blocks to compare (restricted to `modules`, a usage error naming any that is missing)
    /// and every warning the adapters and the plan give: the first half of `analyze`, shared with
    /// `tvgeo analyze --part` and `tvgeo combine`, which rebuild the same plan.
    static func plan<Adapter: LoRAAdapterLayout>(_ adapters: [Adapter],
                                                 modules: [String]?) throws(ToolError) -> (BlockPlan, [Warning]) {
        var warnings = adapters.flatMap(\.warnings)
        var shared = try BlockPlan(adapters, warnings: &warnings)
        let wanted = try StudyBlocks.selectModules(modules, available: shared.modules.map { shared.names[$0]! },
                                                   source: "these adapters", having: "they share")
        if modules != nil { shared.restrict(to: Set(wanted)) }
        return (shared, warnings)
    }

    /// The kernel's result for block `key` over `holders` (adapters that all hold it, in study
    /// order): their factors are read here, and only here, from the mapped files.
    static func computeBlock(_ key: BlockKey, of holders: [LoRAAdapter], stacks: inout StackedBlock) throws(ToolError) -> BlockGeometryResult {
        let pairs = holders.map { $0.blocks[key]! }
        stacks.reset(outFeatures: pairs[0].outFeatures, inFeatures: pairs[0].inFeatures,
                     ranks: pairs.map(\.rank), scalings: pairs.map(\.scaling))
        for (i, adapter) in holders.enumerated() {
            let columns = stacks.columns(i)
            let (outFeatures, inFeatures) = (stacks.outFeatures, stacks.inFeatures)
            try stacks.b.withUnsafeMutableBufferPointer { b throws(ToolError) in
                try stacks.aTransposed.withUnsafeMutableBufferPointer { a throws(ToolError) in
                    try adapter.copyFactors(
                        key,
                        b: UnsafeMutableBufferPointer(rebasing: b[(columns.lowerBound * outFeatures)..<(columns.upperBound * outFeatures)]),
                        aTransposed: UnsafeMutableBufferPointer(
                            rebasing: a[(columns.lowerBound * inFeatures)..<(columns.upperBound * inFeatures)]))
                }
            }
        }
        return try BlockGeometry.analyze(&stacks)
    }

    /// The second half of `analyze`: the blocks' results (in `plan.blocks` order) gathered into the
    /// analysis, with the warnings on undefined distances; `tvgeo combine` calls it on the parts' results.
    static func assemble<Adapter: LoRAAdapterLayout>(adapters: [Adapter], plan: BlockPlan, results: [BlockResult],
                                 warnings initialWarnings: [Warning], keptModules: Set<String>?) throws(ToolError) -> StudyAnalysis {
        var warnings = initialWarnings
        let count = adapters.count
        var distances: [DistanceMetric: [String: LayeredDistances]] = [:]
        var ranks: [String: [SubspaceKind: [[Int?]]]] = [:]
        var norms: [String: [[Double]]] = [:]
        for module in plan.modules {
            let name = plan.names[module]!
            let indices = plan.blocks.indices.filter { plan.blocks[$0].module == module }
            let layerIDs = indices.map { plan.blocks[$0].layer }
            let layered = try StudyBlocks.layered(.lora, blocks: indices.map { results[$0].distances }, layerIDs: layerIDs, count: count)
            for (metric, value) in layered { distances[metric, default: [:]][name] = value }
            var moduleRanks: [SubspaceKind: [[Int?]]] = [:]
            for kind in SubspaceKind.allCases {
                moduleRanks[kind] = (0..<count).map { adapter in indices.map { results[$0].subspaceRanks[kind]![adapter] } }
            }
            ranks[name] = moduleRanks
            norms[name] = (0..<count).map { adapter in indices.map { results[$0].norms[adapter] } }
            // Undefined distances: say which adapter, module and layers, once per cause.
            let causes: [(SubspaceKind, String)] = [(.delta, "ΔW = s·B·A is zero"), (.b, "lora_B is zero"), (.a, "lora_A is zero")]
            for (kind, cause) in causes {
                guard let metrics = StudyBlocks.undefinedMetricsPhrase(when: kind, kind: .lora) else { continue }
                for adapter in 0..<count {
                    let zeroLayers = zip(layerIDs, moduleRanks[kind]![adapter]).filter { $0.1 == 0 }.map(\.0)
                    guard !zeroLayers.isEmpty else { continue }
                    warnings.append(Warning("\(adapters[adapter].task): \(cause) in module \(name) "
                                            + "at layer\(zeroLayers.count > 1 ? "s" : "") \(zeroLayers.map(String.init).joined(separator: ", ")); "
                                            + "\(metrics) undefined there (null)"))
                }
            }
            // Comb averages the factors, so it needs equal ranks: name the layers where they differ.
            let combMetrics = DistanceMetric.applying(to: .lora).filter(\.isCombMetric)
            let mixedLayers = indices.filter { index in
                Set(plan.holders[plan.blocks[index]]!.map { adapters[$0].blocks[plan.blocks[index]]!.rank }).count > 1
            }.map { plan.blocks[$0].layer }
            if !combMetrics.isEmpty, !mixedLayers.isEmpty {
                warnings.append(Warning("module \(name): the adapters' ranks differ at layer\(mixedLayers.count > 1 ? "s" : "") "
                                        + "\(mixedLayers.map(String.init).joined(separator: ", ")); "
                                        + "\(DistanceMetric.sentenceList(combMetrics)) \(combMetrics.count > 1 ? "are" : "is") undefined (null) "
                                        + "there between adapters of different rank (Comb averages the factors)"))
            }
        }
        let summaries = adapters.map { adapter -> AdapterSummary in
            let keys = Set(adapter.blocks.keys.map(\.module)).sorted { plan.names[$0]! < plan.names[$1]! }
            let modules = keys.filter { keptModules?.contains(plan.names[$0]!) ?? true }.map { key -> AdapterSummary.Module in
                let blocks = adapter.blocks.filter { $0.key.module == key }.sorted { $0.key.layer < $1.key.layer }
                return AdapterSummary.Module(name: plan.names[key]!, layers: blocks.map(\.key.layer), ranks: blocks.map(\.value.rank),
                                             alphas: blocks.map(\.value.alpha), scalings: blocks.map(\.value.scaling))
            }
            return AdapterSummary(task: adapter.task, path: adapter.path, weightsPath: adapter.weightsPath, kind: "lora",
                                  baseModel: adapter.baseModel, modules: modules, ignoredTensors: adapter.ignoredTensors)
        }
        var analysis = StudyAnalysis(tasks: adapters.map(\.task), modules: plan.modules.map { plan.names[$0]! }.sorted(),
                                     adapters: summaries, warnings: warnings, distances: distances, subspaceRanks: ranks, norms: norms)
        // Modules that some adapters do not have: which tasks each covers.
        for module in plan.modules {
            let covering = plan.coverage(of: module)
            if covering.count < adapters.count { analysis.moduleTasks[plan.names[module]!] = covering.map { adapters[$0].task } }
        }
        return analysis
    }
}

/// One block's kernel result over all N adapters: the holders' matrices spread into N×N ones,
/// NaN (null) for the adapters that do not have the block.
struct BlockResult: Sendable {
    var distances: [DistanceMetric: PairMatrix]
    var norms: [Double]
    var subspaceRanks: [SubspaceKind: [Int?]]

    init(_ result: BlockGeometryResult, holders: [Int], count: Int) {
        guard holders.count < count else {
            distances = result.distances
            norms = result.norms
            subspaceRanks = result.subspaceRanks.mapValues { $0.map(Optional.some) }
            return
        }
        distances = result.distances.mapValues { local in
            var full = PairMatrix(count: count)
            for (a, i) in holders.enumerated() { for (b, j) in holders.enumerated() { full[i, j] = local[a, b] } }
            return full
        }
        var norms = [Double](repeating: .nan, count: count)
        for (a, i) in holders.enumerated() { norms[i] = result.norms[a] }
        self.norms = norms
        subspaceRanks = result.subspaceRanks.mapValues { local in
            var full = [Int?](repeating: nil, count: count)
            for (a, i) in holders.enumerated() { full[i] = local[a] }
            return full
        }
    }
}

/// The blocks held by at least two adapters, in (module, layer) order, each with the adapters
/// that hold it, and the checks that need all adapters at once: every pair of adapters shares a
/// block, equal shapes per block, equal base models, and what is left out.
struct BlockPlan {
    var blocks: [BlockKey]
    var modules: [ModuleKey]
    var names: [ModuleKey: String]
    /// The indices of the adapters that hold each block (two or more), ascending.
    var holders: [BlockKey: [Int]]

    /// The adapters that hold some block of `module`, ascending.
    func coverage(of module: ModuleKey) -> [Int] {
        Array(Set(blocks.filter { $0.module == module }.flatMap { holders[$0]! })).sorted()
    }

    init<Adapter: LoRAAdapterLayout>(_ adapters: [Adapter], warnings: inout [Warning]) throws(ToolError) {
        let names = TensorNaming.moduleNames(for: adapters.flatMap { $0.blocks.keys.map(\.module) })
        self.names = names
        var holders: [BlockKey: [Int]] = [:]
        for (index, adapter) in adapters.enumerated() {
            for key in adapter.blocks.keys { holders[key, default: []].append(index) }
        }
        holders = holders.filter { $0.value.count >= 2 || adapters.count == 1 }
        // Every pair of adapters must share a block, or some distances could never be defined.
        if let (first, second) = Self.disjointPair(adapters) {
            // Adapters of several base models: name the groups, so the user can split the study.
            let groups = Self.baseModelGroups(adapters)
            if groups.count > 1 {
                let listing = groups.map { "\($0.model) (\($0.tasks.joined(separator: ", ")))" }.joined(separator: "; ")
                throw .invalidData(file: adapters[0].path, location: nil,
                                   problem: "these adapters come from \(groups.count) base models that share no LoRA module and layer: "
                                            + "\(listing); run one study per base model")
            }
            throw .invalidData(file: first.path, location: nil,
                               problem: "shares no LoRA module and layer with \(second.task) (\(second.path)); "
                                        + "are they adapters of the same model?")
        }
        guard !holders.isEmpty else {
            throw .invalidData(file: adapters[0].path, location: nil, problem: "no (module, layer) block is present in two adapters")
        }
        self.holders = holders
        let blocks = StudyBlocks.sorted(holders.keys, names: names)
        self.blocks = blocks
        self.modules = Array(Set(blocks.map(\.module))).sorted { names[$0]! < names[$1]! }

        // What is left out or covered by only some adapters, named.
        let allModules = Set(adapters.flatMap { $0.blocks.keys.map(\.module) })
        for module in allModules.sorted(by: { names[$0]! < names[$1]! }) {
            let name = names[module]!
            let having = adapters.indices.filter { adapters[$0].blocks.keys.contains { $0.module == module } }
            guard blocks.contains(where: { $0.module == module }) else {
                warnings.append(Warning("module \(name) is left out: only \(having.map { adapters[$0].task }.joined(separator: ", ")) "
                                        + "\(having.count == 1 ? "has" : "have") LoRA factors for it (at the same layers)"))
                continue
            }
            let missing = adapters.indices.filter { !having.contains($0) }
            if !missing.isEmpty {
                warnings.append(Warning("module \(name) covers \(having.count) of \(adapters.count) adapters: "
                                        + "\(missing.map { adapters[$0].task }.joined(separator: ", ")) "
                                        + "\(missing.count > 1 ? "have" : "has") no LoRA factors for it; "
                                        + "\(missing.count > 1 ? "their" : "its") distances in \(name) are null"))
            }
            let allLayers = Set(adapters.flatMap { $0.blocks.keys.filter { $0.module == module }.map(\.layer) })
            let keptLayers = Set(blocks.filter { $0.module == module }.map(\.layer))
            let dropped = allLayers.subtracting(keptLayers).sorted()
            if !dropped.isEmpty {
                warnings.append(Warning("module \(name): layer\(dropped.count > 1 ? "s" : "") \(dropped.map(String.init).joined(separator: ", ")) "
                                        + "left out (held by fewer than two adapters)"))
            }
            for index in having {
                let lacking = keptLayers.filter { adapters[index].blocks[BlockKey(module: module, layer: $0)] == nil }.sorted()
                guard !lacking.isEmpty else { continue }
                warnings.append(Warning("\(adapters[index].task) has no LoRA factors for module \(name) at "
                                        + "layer\(lacking.count > 1 ? "s" : "") \(lacking.map(String.init).joined(separator: ", ")); "
                                        + "its distances there are null"))
            }
        }

        // Shapes must agree on every shared block.
        for block in blocks {
            let first = adapters[holders[block]![0]]
            let reference = first.blocks[block]!
            for adapter in holders[block]!.dropFirst().map({ adapters[$0] }) {
                let pair = adapter.blocks[block]!
                if pair.outFeatures != reference.outFeatures || pair.inFeatures != reference.inFeatures {
                    throw .invalidData(file: adapter.weightsPath, location: pair.bTensor,
                                       problem: "ΔW is \(pair.outFeatures)×\(pair.inFeatures) here "
                                                + "but \(reference.outFeatures)×\(reference.inFeatures) in \(first.weightsPath) "
                                                + "(\(reference.bTensor)); adapters of different base models cannot be compared")
                }
            }
        }
        let bases = Set(adapters.compactMap(\.baseModel))
        if bases.count > 1 {
            let listing = adapters.map { "\($0.task): \($0.baseModel ?? "?")" }.joined(separator: ", ")
            warnings.append(Warning("adapters name different base models (\(listing)); shapes agree, so they are compared anyway"))
        }
    }

    /// Keeps only the blocks of the modules named in `wanted`.
    mutating func restrict(to wanted: Set<String>) {
        blocks = blocks.filter { wanted.contains(names[$0.module]!) }
        holders = holders.filter { wanted.contains(names[$0.key.module]!) }
        modules = modules.filter { wanted.contains(names[$0]!) }
    }

    /// The adapters grouped by `base_model_name_or_path` ("unknown base model" where the config
    /// does not say), groups in order of their first adapter.
    static func baseModelGroups<Adapter: LoRAAdapterLayout>(_ adapters: [Adapter]) -> [(model: String, tasks: [String])] {
        var groups: [(model: String, tasks: [String])] = []
        for adapter in adapters {
            let model = adapter.baseModel ?? "unknown base model"
            if let index = groups.firstIndex(where: { $0.model == model }) {
                groups[index].tasks.append(adapter.task)
            } else {
                groups.append((model, [adapter.task]))
            }
        }
        return groups
    }

    /// The first pair of adapters (in argument order) that shares no block, or nil.
    private static func disjointPair<Adapter: LoRAAdapterLayout>(_ adapters: [Adapter]) -> (Adapter, Adapter)? {
        // The usual case, one block that every adapter has, needs no pairwise look.
        if let first = adapters.first, first.blocks.keys.contains(where: { key in adapters.allSatisfy { $0.blocks[key] != nil } }) {
            return nil
        }
        let keys = adapters.map { Set($0.blocks.keys) }
        for i in adapters.indices {
            for j in adapters.indices where j > i && keys[i].isDisjoint(with: keys[j]) {
                return (adapters[i], adapters[j])
            }
        }
        return nil
    }
}
