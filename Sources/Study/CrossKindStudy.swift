import AnalysisCore
import Diagnostics
import Foundation
import TensorIO

/// LoRA beside full fine-tuning, per module and layer, for the tasks both kinds have (in the
/// LoRA arguments' order): the cross-kind distances and the intruder counts of both kinds.
public struct CrossKindAnalysis: Sendable {
    /// Tasks with both a LoRA adapter and a fine-tuned checkpoint, in the LoRA arguments' order.
    public var tasks: [String]
    /// Modules compared (the full fine-tuning study's names), sorted.
    public var modules: [String]
    /// module → ascending layer indices compared.
    public var layerIDs: [String: [Int]]
    /// module → per layer, the N×N cosine distances (rows LoRA task i, columns f-FT task j; NaN where undefined).
    public var cosine: [String: [[[Double]]]]
    /// module → per task, per layer Grassmann distance (radians) between Im(ΔW) and τ's top-r left singular subspace.
    public var grassmann: [String: [[Double]]]
    /// module → Mantel agreement of the two kinds' layer-mean cosine maps (nil when undefined).
    public var agreement: [String: Mantel.Result?]
    public var intruderK: Int
    public var intruderEpsilon: Double
    /// kind → module → per task, per layer number of intruder dimensions.
    public var intruders: [FineTuningKind: [String: [[Int]]]]

    /// The mean over layers of each cross-kind cosine distance (over the layers where it is defined; NaN where none is).
    public func cosineMean(_ module: String) -> [[Double]] {
        let layers = cosine[module] ?? []
        let n = tasks.count
        return (0..<n).map { i in (0..<n).map { j in CrossKindAnalysis.mean(layers.map { $0[i][j] }) } }
    }

    /// The share of LoRA tasks whose nearest full fine-tuning update (smallest layer-mean cosine
    /// distance, the first on ties) is their own task, in [0, 1]; NaN when a row has no value.
    public func matching(_ module: String) -> Double {
        let mean = cosineMean(module)
        guard !mean.isEmpty else { return .nan }
        var matched = 0
        for (row, values) in mean.enumerated() {
            guard let nearest = values.indices.filter({ !values[$0].isNaN }).min(by: { values[$0] < values[$1] }) else { return .nan }
            if nearest == row { matched += 1 }
        }
        return Double(matched) / Double(mean.count)
    }

    /// The mean of the defined values; NaN when none is.
    public static func mean(_ values: [Double]) -> Double {
        let defined = values.filter { !$0.isNaN }
        return defined.isEmpty ? .nan : defined.reduce(0, +) / Double(defined.count)
    }
}

/// One study, two kinds: each kind's full study as today, the poster's score table and the cross-kind analysis.
public struct KindComparison: Sendable {
    public var fft: StudyAnalysis
    public var fftFindings: StudyFindings
    public var lora: StudyAnalysis
    public var loraFindings: StudyFindings
    public var crossKind: CrossKindAnalysis
    /// Per shared task: the single-task scores of the two kinds (nil where a score file lacks it or was not given).
    public var kindScores: [(task: String, fft: Double?, lora: Double?)]
}

public enum CrossKindStudy {
    /// The tasks both kinds have, in the LoRA arguments' order; exit 65 naming both lists when there is none.
    public static func sharedTasks(fft: [AdapterArgument], lora: [AdapterArgument], base: String) throws(ToolError) -> [String] {
        let fftTasks = Set(fft.map(\.task))
        let shared = lora.map(\.task).filter(fftTasks.contains)
        guard !shared.isEmpty else {
            throw .invalidData(file: base, location: nil,
                               problem: "the LoRA adapters (\(lora.map(\.task).joined(separator: ", "))) and the fine-tuned checkpoints "
                                   + "(\(fft.map(\.task).joined(separator: ", "))) share no task name; pair them by name "
                                   + "(folder name, or name=path)")
        }
        return shared
    }

    /// Cross-kind distances and intruder counts for the blocks of `modules` (the f-FT study's
    /// module names) that the base and every shared task's adapter have. Every LoRA adapter's
    /// blocks in those modules must have the base weight's shape (exit 65 naming the file and tensor).
    public static func analyze(base basePath: String, checkpoints: [AdapterArgument], adapters: [LoRAAdapter], modules: [String],
                               k: Int, epsilon: Double, progress: StudyProgress? = nil) throws(ToolError) -> CrossKindAnalysis {
        BLASThreads.useSingleThread()
        let loraArguments = adapters.map { AdapterArgument(task: $0.task, path: $0.path) }
        let tasks = try sharedTasks(fft: checkpoints, lora: loraArguments, base: basePath)
        let base = try Checkpoint(path: basePath)
        var found: [BlockKey: (name: String, shape: [Int])] = [:]
        for name in base.tensorNames {
            guard let info = base.info(name), info.shape.count == 2, info.dtype.isReadableAsFloat,
                  let (key, layer, _) = TensorNaming.fullWeight(name) else { continue }
            found[BlockKey(module: key, layer: layer)] = (name, info.shape)
        }
        let weights = found
        let names = TensorNaming.moduleNames(for: weights.keys.map(\.module))
        let wanted = Set(modules)
        let candidates = weights.keys.filter { wanted.contains(names[$0.module]!) }
        @Sendable func isConv1D(_ key: BlockKey) -> Bool { FullFineTuneStudy.conv1DModules.contains(key.module.path.last ?? "") }
        @Sendable func denseShape(_ key: BlockKey) -> (rows: Int, cols: Int) {
            let shape = weights[key]!.shape
            return isConv1D(key) ? (shape[1], shape[0]) : (shape[0], shape[1])
        }
        try checkShapes(adapters, base: base, weights: weights)
        let byTask = Dictionary(adapters.map { ($0.task, $0) }, uniquingKeysWith: { first, _ in first })
        let fftByTask = Dictionary(checkpoints.map { ($0.task, $0.path) }, uniquingKeysWith: { first, _ in first })
        let shared = tasks.map { byTask[$0]! }
        let blocks = StudyBlocks.sorted(candidates.filter { key in shared.allSatisfy { $0.blocks[key] != nil } }, names: names)
        guard !blocks.isEmpty else {
            throw .invalidData(file: shared[0].weightsPath, location: nil,
                               problem: "no LoRA block of the modules \(modules.joined(separator: ", ")) matches a weight of the base "
                                   + "\(basePath) (tensor names differ)")
        }
        var fineTuned: [Checkpoint] = []
        for task in tasks { fineTuned.append(try Checkpoint(path: fftByTask[task]!)) }
        let checkpointsRead = fineTuned
        struct BlockOutcome: Sendable {
            var geometry: CrossKindGeometry.BlockResult
            var loraIntruders: [Int]
            var fftIntruders: [Int]
        }
        let outcomes = try ConcurrentWork.map(count: blocks.count, onFailure: .stopClaiming, progress: progress) { index throws(ToolError) in
            let key = blocks[index]
            let weight = weights[key]!
            let (rows, cols) = denseShape(key)
            let layout: SafetensorsFile.DestinationLayout = isConv1D(key) ? .asStored : .columnMajor
            func read(_ checkpoint: Checkpoint) throws(ToolError) -> Matrix {
                try FullFineTuneStudy.matrix(weight.name, of: checkpoint, rows: rows, cols: cols, layout: layout)
            }
            let initial = try read(base)
            let tuned = try checkpointsRead.map { checkpoint throws(ToolError) in try read(checkpoint) }
            var updates: [LoRAFactors] = []
            for adapter in shared {
                let pair = adapter.blocks[key]!
                var b = [Double](repeating: 0, count: rows * pair.rank), a = [Double](repeating: 0, count: cols * pair.rank)
                try b.withUnsafeMutableBufferPointer { bBuffer throws(ToolError) in
                    try a.withUnsafeMutableBufferPointer { aBuffer throws(ToolError) in
                        try adapter.copyFactors(key, b: bBuffer, aTransposed: aBuffer)
                    }
                }
                updates.append(LoRAFactors(b: Matrix(rows: rows, cols: pair.rank, values: b),
                                           aTransposed: Matrix(rows: cols, cols: pair.rank, values: a), scaling: pair.scaling))
            }
            let taskVectors = tuned.map { $0 - initial }
            let geometry = try CrossKindGeometry.analyze(updates: updates, taskVectors: taskVectors,
                                                         pairs: tasks.indices.map { ($0, $0) })
            let vectors = try IntruderDimensions.BaseVectors(base: initial)
            var loraCounts: [Int] = [], fftCounts: [Int] = []
            for update in updates {
                loraCounts.append(try IntruderDimensions.count(in: IntruderDimensions.adapted(initial, by: update), base: vectors,
                                                               k: k, epsilon: epsilon))
            }
            for weight in tuned { fftCounts.append(try IntruderDimensions.count(in: weight, base: vectors, k: k, epsilon: epsilon)) }
            return BlockOutcome(geometry: geometry, loraIntruders: loraCounts, fftIntruders: fftCounts)
        }
        var result = CrossKindAnalysis(tasks: tasks, modules: [], layerIDs: [:], cosine: [:], grassmann: [:], agreement: [:],
                                       intruderK: k, intruderEpsilon: epsilon, intruders: [.lora: [:], .full: [:]])
        result.modules = Array(Set(blocks.map { names[$0.module]! })).sorted()
        for module in result.modules {
            let indices = blocks.indices.filter { names[blocks[$0].module] == module }
            result.layerIDs[module] = indices.map { blocks[$0].layer }
            result.cosine[module] = indices.map { outcomes[$0].geometry.cosine }
            result.grassmann[module] = tasks.indices.map { task in indices.map { outcomes[$0].geometry.grassmann[task] } }
            result.intruders[.lora]![module] = tasks.indices.map { task in indices.map { outcomes[$0].loraIntruders[task] } }
            result.intruders[.full]![module] = tasks.indices.map { task in indices.map { outcomes[$0].fftIntruders[task] } }
        }
        return result
    }

    /// Every LoRA block whose weight the base has must have that weight's shape (ΔW = B·A is d_out × d_in;
    /// a Conv1D weight is stored d_in × d_out): exit 65 naming the adapter's file and tensor.
    public static func checkShapes(_ adapters: [LoRAAdapter], base basePath: String) throws(ToolError) {
        let base = try Checkpoint(path: basePath)
        var weights: [BlockKey: (name: String, shape: [Int])] = [:]
        for name in base.tensorNames {
            guard let info = base.info(name), info.shape.count == 2, let (key, layer, _) = TensorNaming.fullWeight(name) else { continue }
            weights[BlockKey(module: key, layer: layer)] = (name, info.shape)
        }
        try checkShapes(adapters, base: base, weights: weights)
    }

    static func checkShapes(_ adapters: [LoRAAdapter], base: Checkpoint, weights: [BlockKey: (name: String, shape: [Int])]) throws(ToolError) {
        for adapter in adapters {
            for key in adapter.blocks.keys.sorted() {
                guard let pair = adapter.blocks[key], let weight = weights[key] else { continue }
                let conv1D = FullFineTuneStudy.conv1DModules.contains(key.module.path.last ?? "")
                let (rows, cols) = conv1D ? (weight.shape[1], weight.shape[0]) : (weight.shape[0], weight.shape[1])
                guard pair.outFeatures == rows, pair.inFeatures == cols else {
                    throw .invalidData(file: adapter.weightsPath, location: pair.bTensor,
                                       problem: "ΔW = B·A is \(pair.outFeatures)×\(pair.inFeatures) but the base weight "
                                           + "\(weight.name) in \(base.file(of: weight.name)) is \(rows)×\(cols) "
                                           + "(out × in): the adapter was not trained on this base")
                }
            }
        }
    }

    /// The Mantel agreement of the two kinds' own layer-mean cosine-distance maps over `tasks`,
    /// per module both studies have (diagonal 0).
    public static func agreement(tasks: [String], modules: [String], fft: StudyAnalysis, lora: StudyAnalysis) -> [String: Mantel.Result?] {
        func map(_ analysis: StudyAnalysis, _ module: String) -> [[Double]]? {
            guard let mean = analysis.distances[.cosine]?[module]?.mean else { return nil }
            let indices = tasks.compactMap { analysis.tasks.firstIndex(of: $0) }
            guard indices.count == tasks.count else { return nil }
            return indices.map { i in indices.map { j in i == j ? 0 : mean[i, j] } }
        }
        var result: [String: Mantel.Result?] = [:]
        for module in modules {
            if let first = map(lora, module), let second = map(fft, module) {
                result[module] = Mantel.test(first, second)
            } else {
                result[module] = .some(nil)
            }
        }
        return result
    }
}
