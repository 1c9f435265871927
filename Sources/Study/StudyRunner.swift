import AnalysisCore
import Diagnostics
import Dispatch
import Foundation
import TensorIO

/// Runs the analysis: loads the adapters, finds the (module, layer) blocks they all have, hands
/// each block to the core (blocks run in parallel, one BLAS thread each) and gathers the result.
public enum StudyRunner {
    /// Called after each block with (done, total); used for progress display.
    public typealias Progress = @Sendable (Int, Int) -> Void

    public static func analyze(_ arguments: [AdapterArgument], progress: Progress? = nil) throws(ToolError) -> StudyAnalysis {
        try AdapterArgument.checkUnique(arguments)
        // Adapters are read and validated on all cores; a failure is reported for the first bad
        // argument in command-line order, whichever thread saw it first (failures are stored as
        // results, never `fail`ed, so every argument is still claimed).
        let loaded = ResultSlots<Result<LoRAAdapter, ToolError>>(count: arguments.count)
        DispatchQueue.concurrentPerform(iterations: min(arguments.count, max(1, ProcessInfo.processInfo.activeProcessorCount))) { _ in
            while let index = loaded.claimNext() {
                do throws(ToolError) {
                    loaded.store(.success(try LoRAAdapter(task: arguments[index].task, path: arguments[index].path)), at: index)
                } catch {
                    loaded.store(.failure(error), at: index)
                }
            }
        }
        var adapters: [LoRAAdapter] = []
        for slot in loaded.values {
            switch slot! {
            case .success(let adapter): adapters.append(adapter)
            case .failure(let error): throw error
            }
        }
        return try analyze(adapters, progress: progress)
    }

    public static func analyze(_ adapters: [LoRAAdapter], progress: Progress? = nil) throws(ToolError) -> StudyAnalysis {
        var warnings = adapters.flatMap(\.warnings)
        let plan = try BlockPlan(adapters, warnings: &warnings)

        BLASThreads.useSingleThread()
        let results = ResultSlots<BlockGeometryResult>(count: plan.blocks.count)
        let workers = min(plan.blocks.count, max(1, ProcessInfo.processInfo.activeProcessorCount))
        // Each worker takes the next block and reuses one StackedBlock for all of them, so the
        // stacks are allocated once per worker, not once per block.
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            var stacks = StackedBlock()
            while let index = results.claimNext() {
                do throws(ToolError) {
                    let key = plan.blocks[index]
                    let pairs = adapters.map { $0.blocks[key]! }
                    stacks.reset(outFeatures: pairs[0].outFeatures, inFeatures: pairs[0].inFeatures,
                                 ranks: pairs.map(\.rank), scalings: pairs.map(\.scaling))
                    for (i, adapter) in adapters.enumerated() {
                        let columns = stacks.columns(i)
                        let (outFeatures, inFeatures) = (stacks.outFeatures, stacks.inFeatures)
                        try stacks.b.withUnsafeMutableBufferPointer { b throws(ToolError) in
                            try stacks.aTransposed.withUnsafeMutableBufferPointer { a throws(ToolError) in
                                try adapter.copyFactors(
                                    key,
                                    b: UnsafeMutableBufferPointer(rebasing: b[(columns.lowerBound * outFeatures)..<(columns.upperBound * outFeatures)]),
                                    aTransposed: UnsafeMutableBufferPointer(rebasing: a[(columns.lowerBound * inFeatures)..<(columns.upperBound * inFeatures)]))
                            }
                        }
                    }
                    results.store(try BlockGeometry.analyze(&stacks), at: index)
                    progress?(results.completed, plan.blocks.count)
                } catch {
                    results.fail(error)
                }
            }
        }
        if let error = results.firstError { throw error }
        let blockResults = results.values.map { $0! }
        return assemble(adapters: adapters, plan: plan, results: blockResults, warnings: warnings)
    }

    private static func assemble(adapters: [LoRAAdapter], plan: BlockPlan, results: [BlockGeometryResult],
                                 warnings initialWarnings: [Warning]) -> StudyAnalysis {
        var warnings = initialWarnings
        let count = adapters.count
        var distances: [DistanceMetric: [String: LayeredDistances]] = [:]
        var ranks: [String: [SubspaceKind: [[Int]]]] = [:]
        var norms: [String: [[Double]]] = [:]
        for module in plan.modules {
            let name = plan.names[module]!
            let indices = plan.blocks.indices.filter { plan.blocks[$0].module == module }
            let layerIDs = indices.map { plan.blocks[$0].layer }
            for metric in DistanceMetric.allCases {
                let layers = indices.map { results[$0].distances[metric]! }
                distances[metric, default: [:]][name] = LayeredDistances(layerIDs: layerIDs, layers: layers,
                                                                         mean: layerMean(layers, count: count))
            }
            var moduleRanks: [SubspaceKind: [[Int]]] = [:]
            for kind in SubspaceKind.allCases {
                moduleRanks[kind] = (0..<count).map { adapter in indices.map { results[$0].subspaceRanks[kind]![adapter] } }
            }
            ranks[name] = moduleRanks
            norms[name] = (0..<count).map { adapter in indices.map { results[$0].norms[adapter] } }
            // Undefined distances: say which adapter, module and layers, once per cause.
            let causes: [(SubspaceKind, String, String)] = [
                (.delta, "ΔW = s·B·A is zero", "cosine and grassmann are"),
                (.b, "lora_B is zero", "grassmann_b is"),
                (.a, "lora_A is zero", "grassmann_a is"),
            ]
            for (kind, cause, metrics) in causes {
                for adapter in 0..<count {
                    let zeroLayers = zip(layerIDs, moduleRanks[kind]![adapter]).filter { $0.1 == 0 }.map(\.0)
                    guard !zeroLayers.isEmpty else { continue }
                    warnings.append(Warning("\(adapters[adapter].task): \(cause) in module \(name) at layer\(zeroLayers.count > 1 ? "s" : "") \(zeroLayers.map(String.init).joined(separator: ", ")); \(metrics) undefined there (null)"))
                }
            }
        }
        let summaries = adapters.map { adapter -> AdapterSummary in
            let keys = Set(adapter.blocks.keys.map(\.module)).sorted { plan.names[$0]! < plan.names[$1]! }
            let modules = keys.map { key -> AdapterSummary.Module in
                let blocks = adapter.blocks.filter { $0.key.module == key }.sorted { $0.key.layer < $1.key.layer }
                return AdapterSummary.Module(name: plan.names[key]!, layers: blocks.map(\.key.layer), ranks: blocks.map(\.value.rank),
                                             alphas: blocks.map(\.value.alpha), scalings: blocks.map(\.value.scaling))
            }
            return AdapterSummary(task: adapter.task, path: adapter.path, weightsPath: adapter.weightsPath, kind: "lora",
                                  baseModel: adapter.baseModel, modules: modules, ignoredTensors: adapter.ignoredTensors)
        }
        return StudyAnalysis(tasks: adapters.map(\.task), modules: plan.modules.map { plan.names[$0]! }.sorted(),
                             adapters: summaries, warnings: warnings, distances: distances, subspaceRanks: ranks, norms: norms)
    }

    /// Element-wise mean over the layers where the value is defined; NaN where none is.
    static func layerMean(_ layers: [PairMatrix], count: Int) -> PairMatrix {
        var mean = PairMatrix(count: count)
        for index in 0..<(count * count) {
            var sum = 0.0, defined = 0
            for layer in layers where !layer.values[index].isNaN {
                sum += layer.values[index]
                defined += 1
            }
            mean.values[index] = defined > 0 ? sum / Double(defined) : .nan
        }
        return mean
    }
}

/// The blocks every adapter has, in (module, layer) order, with the checks that need all
/// adapters at once: equal shapes per block, equal base models, and what is left out.
struct BlockPlan {
    var blocks: [BlockKey]
    var modules: [ModuleKey]
    var names: [ModuleKey: String]

    init(_ adapters: [LoRAAdapter], warnings: inout [Warning]) throws(ToolError) {
        let names = TensorNaming.moduleNames(for: adapters.flatMap { $0.blocks.keys.map(\.module) })
        self.names = names
        var shared = Set(adapters[0].blocks.keys)
        for adapter in adapters.dropFirst() { shared.formIntersection(adapter.blocks.keys) }
        if shared.isEmpty {
            if adapters.count > 1, let (first, second) = Self.disjointPair(adapters) {
                throw .invalidData(file: first.path, location: nil,
                                   problem: "shares no LoRA module and layer with \(second.task) (\(second.path)); are they adapters of the same model?")
            }
            throw .invalidData(file: adapters[0].path, location: nil, problem: "no (module, layer) block is present in every adapter")
        }
        let blocks = shared.sorted { names[$0.module]! == names[$1.module]! ? $0.layer < $1.layer : names[$0.module]! < names[$1.module]! }
        self.blocks = blocks
        self.modules = Array(Set(blocks.map(\.module))).sorted { names[$0]! < names[$1]! }

        // What is left out, named.
        let allModules = Set(adapters.flatMap { $0.blocks.keys.map(\.module) })
        for module in allModules.sorted(by: { names[$0]! < names[$1]! }) {
            let name = names[module]!
            let missing = adapters.filter { adapter in !adapter.blocks.keys.contains { $0.module == module } }
            if !missing.isEmpty {
                warnings.append(Warning("module \(name) is left out: \(missing.map(\.task).joined(separator: ", ")) \(missing.count > 1 ? "have" : "has") no LoRA factors for it"))
                continue
            }
            let allLayers = Set(adapters.flatMap { $0.blocks.keys.filter { $0.module == module }.map(\.layer) })
            let sharedLayers = Set(blocks.filter { $0.module == module }.map(\.layer))
            let dropped = allLayers.subtracting(sharedLayers).sorted()
            if !dropped.isEmpty {
                warnings.append(Warning("module \(name): layer\(dropped.count > 1 ? "s" : "") \(dropped.map(String.init).joined(separator: ", ")) left out (not present in every adapter)"))
            }
        }

        // Shapes must agree on every shared block.
        for block in blocks {
            let reference = adapters[0].blocks[block]!
            for adapter in adapters.dropFirst() {
                let pair = adapter.blocks[block]!
                if pair.outFeatures != reference.outFeatures || pair.inFeatures != reference.inFeatures {
                    throw .invalidData(file: adapter.weightsPath, location: pair.bTensor,
                                       problem: "ΔW is \(pair.outFeatures)×\(pair.inFeatures) here but \(reference.outFeatures)×\(reference.inFeatures) in \(adapters[0].weightsPath) (\(reference.bTensor)); adapters of different base models cannot be compared")
                }
            }
        }
        let bases = Set(adapters.compactMap(\.baseModel))
        if bases.count > 1 {
            let listing = adapters.map { "\($0.task): \($0.baseModel ?? "?")" }.joined(separator: ", ")
            warnings.append(Warning("adapters name different base models (\(listing)); shapes agree, so they are compared anyway"))
        }
    }

    private static func disjointPair(_ adapters: [LoRAAdapter]) -> (LoRAAdapter, LoRAAdapter)? {
        for i in adapters.indices {
            for j in adapters.indices where j > i && Set(adapters[i].blocks.keys).isDisjoint(with: adapters[j].blocks.keys) {
                return (adapters[i], adapters[j])
            }
        }
        return nil
    }
}

/// Results written by concurrent workers into fixed slots, with the first error kept.
final class ResultSlots<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value?]
    private var error: ToolError?
    private var done = 0
    private var next = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ value: Value, at index: Int) {
        lock.lock(); defer { lock.unlock() }
        slots[index] = value
        done += 1
    }

    func fail(_ failure: ToolError) {
        lock.lock(); defer { lock.unlock() }
        if error == nil { error = failure }
    }

    /// The next unclaimed index, or nil when all are claimed or a worker has failed.
    func claimNext() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard error == nil, next < slots.count else { return nil }
        defer { next += 1 }
        return next
    }

    var firstError: ToolError? { lock.lock(); defer { lock.unlock() }; return error }
    var completed: Int { lock.lock(); defer { lock.unlock() }; return done }
    var values: [Value?] { lock.lock(); defer { lock.unlock() }; return slots }
}
