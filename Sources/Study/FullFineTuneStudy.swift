import AnalysisCore
import Diagnostics
import Dispatch
import Foundation
import TensorIO

/// The full fine-tuning pipeline (sibling of `LoRAStudy`): task vectors τ = W_t − W_0 from a
/// base checkpoint and N fine-tuned checkpoints, the selected 2-D weights of every layer, one
/// block at a time.
public enum FullFineTuneStudy {
    /// Attention query and value projections of BERT/RoBERTa, DistilBERT and LLaMA-style models.
    public static let defaultModules = ["query", "value", "q_lin", "v_lin", "q_proj", "v_proj"]
    /// GPT-2's Conv1D layers store their weight as in × out.
    static let conv1DModules: Set<String> = ["c_attn", "c_proj", "c_fc"]

    public static func analyze(base basePath: String, checkpoints arguments: [AdapterArgument], modules requested: [String]?,
                               subspaceRank: Int, subspaceRankGiven: Bool = false,
                               progress: StudyProgress? = nil) throws(ToolError) -> StudyAnalysis {
        BLASThreads.useSingleThread()
        try AdapterArgument.checkUnique(arguments)
        try StudyBlocks.checkSubspaceRank(subspaceRank)
        let base = try Checkpoint(path: basePath)
        var weights: [BlockKey: (name: String, modulePath: String, shape: [Int])] = [:]
        for name in base.tensorNames {
            guard let info = base.info(name), info.shape.count == 2, info.dtype.isReadableAsFloat,
                  let (key, layer, modulePath) = TensorNaming.fullWeight(name) else { continue }
            weights[BlockKey(module: key, layer: layer)] = (name, modulePath, info.shape)
        }
        let names = TensorNaming.moduleNames(for: weights.keys.map(\.module))
        let available = Set(names.values)
        let wanted = try StudyBlocks.selectModules(requested, available: available.sorted(), source: basePath,
                                                   having: "its 2-D weights per layer:")
        let chosen = requested == nil ? defaultModules.filter(available.contains) : wanted
        guard !chosen.isEmpty else {
            throw .usage("no attention query/value weights found in \(basePath); "
                         + "choose with --modules (available: \(available.sorted().joined(separator: ", ")))")
        }
        let blocks = StudyBlocks.sorted(weights.keys.filter { chosen.contains(names[$0.module]!) }, names: names)
        // k singular vectors of a d_out × d_in matrix exist only up to min(d_out, d_in): a k asked
        // for must fit (the default is capped at the numerical rank, as SciPy's orth would).
        if subspaceRankGiven, let narrowest = blocks.min(by: { weights[$0]!.shape.min()! < weights[$1]!.shape.min()! }),
           let size = weights[narrowest]!.shape.min(), subspaceRank > size {
            let shape = weights[narrowest]!.shape.map(String.init).joined(separator: " × ")
            throw .usage("--subspace-rank \(subspaceRank) exceeds the size of \(weights[narrowest]!.name) (\(shape)) in \(basePath); "
                         + "use at most \(size)")
        }
        var checkpoints: [Checkpoint] = []
        for argument in arguments {
            let checkpoint = try Checkpoint(path: argument.path)
            for block in blocks {
                let weight = weights[block]!
                guard let info = checkpoint.info(weight.name) else {
                    throw .invalidData(file: argument.path, location: weight.name, problem: "missing: the base \(basePath) has it")
                }
                guard info.shape == weight.shape else {
                    throw .invalidData(file: checkpoint.file(of: weight.name), location: weight.name,
                                       problem: "shape \(info.shape) but \(weight.shape) in the base \(base.file(of: weight.name))")
                }
            }
            checkpoints.append(checkpoint)
        }

        let (baseWeights, fineTuned) = (weights, checkpoints)
        let blockResults = try ConcurrentWork.map(count: blocks.count, onFailure: .stopClaiming, progress: progress) { index throws(ToolError) in
            let block = blocks[index]
            let weight = baseWeights[block]!
            let conv1D = conv1DModules.contains(block.module.path.last ?? "")
            // Read as stored (no transposing copy): a row-major d_out × d_in weight is τᵀ column-major,
            // a Conv1D weight (in × out, row-major) is τ itself.
            let rows = weight.shape[1], cols = weight.shape[0]
            func read(_ checkpoint: Checkpoint) throws(ToolError) -> Matrix {
                try FullFineTuneStudy.matrix(weight.name, of: checkpoint, rows: rows, cols: cols, layout: .asStored)
            }
            let initial = try read(base)
            var deltas: [Matrix] = []
            for checkpoint in fineTuned {
                var delta = try read(checkpoint)  // τ = W_t − W_0 in place: no second d_out × d_in buffer
                delta.values.withUnsafeMutableBufferPointer { tau in
                    initial.values.withUnsafeBufferPointer { w0 in
                        for index in tau.indices { tau[index] -= w0[index] }
                    }
                }
                deltas.append(delta)
            }
            return try FullTaskVectors.analyze(deltas, subspaceRank: subspaceRank, transposed: !conv1D)
        }

        let count = arguments.count
        let moduleNames = chosen.filter { name in blocks.contains { names[$0.module] == name } }.sorted()
        var distances: [DistanceMetric: [String: LayeredDistances]] = [:]
        var ranks: [String: [SubspaceKind: [[Int?]]]] = [:]
        var norms: [String: [[Double]]] = [:]
        var spectra: [String: [[TaskVectorSpectrum]]] = [:]
        let inapplicable = DistanceMetric.allCases.filter { !DistanceMetric.applying(to: .full).contains($0) }
        let subspaceMetrics = DistanceMetric.applying(to: .full).filter { $0.subspace != nil }
        var warnings = [Warning("full fine-tuning: \(DistanceMetric.sentenceList(inapplicable)) does not apply (τ has no B factor) and is null; "
                                + "\(DistanceMetric.sentenceList(subspaceMetrics)) compare "
                                + "the top-\(subspaceRank) left and right singular subspaces of τ")]
        for name in moduleNames {
            let indices = blocks.indices.filter { names[blocks[$0].module] == name }
            let layerIDs = indices.map { blocks[$0].layer }
            let layered = try StudyBlocks.layered(.full, blocks: indices.map { blockResults[$0].distances }, layerIDs: layerIDs, count: count)
            for (metric, value) in layered { distances[metric, default: [:]][name] = value }
            let perAdapter = (0..<count).map { adapter in indices.map { blockResults[$0].spectra[adapter] } }
            spectra[name] = perAdapter
            let k: [[Int?]] = perAdapter.map { $0.map(\.k) }
            ranks[name] = [.delta: k, .a: k, .b: perAdapter.map { _ in [] }]
            norms[name] = (0..<count).map { adapter in indices.map { blockResults[$0].norms[adapter] } }
            for adapter in 0..<count {
                let zero = zip(layerIDs, norms[name]![adapter]).filter { $0.1 == 0 }.map(\.0)
                if !zero.isEmpty {
                    warnings.append(Warning("\(arguments[adapter].task): τ = W_t − W_0 is zero in module \(name) "
                                            + "at layer\(zero.count > 1 ? "s" : "") \(zero.map(String.init).joined(separator: ", ")); "
                                            + "cosine and Grassmann distances are undefined there (null)"))
                }
            }
        }
        let summaries = arguments.map { argument in
            AdapterSummary(task: argument.task, path: argument.path, weightsPath: argument.path, kind: "fft", baseModel: basePath,
                           modules: moduleNames.map { name in
                               AdapterSummary.Module(name: name, layers: blocks.filter { names[$0.module] == name }.map(\.layer),
                                                     ranks: [], alphas: [], scalings: [])
                           }, ignoredTensors: [])
        }
        var analysis = StudyAnalysis(tasks: arguments.map(\.task), modules: moduleNames, adapters: summaries, warnings: warnings,
                                     distances: distances, subspaceRanks: ranks, norms: norms)
        analysis.spectra = spectra
        analysis.subspaceRank = subspaceRank
        analysis.kind = .full
        return analysis
    }

    /// One weight of `checkpoint` as a rows × cols Matrix in F64 (`layout` says how it is stored).
    static func matrix(_ name: String, of checkpoint: Checkpoint, rows: Int, cols: Int,
                       layout: SafetensorsFile.DestinationLayout) throws(ToolError) -> Matrix {
        var values = [Double](repeating: 0, count: rows * cols)
        try values.withUnsafeMutableBufferPointer { buffer throws(ToolError) in
            try checkpoint.copyMatrix(name, into: buffer, layout: layout)
        }
        return Matrix(rows: rows, cols: cols, values: values)
    }
}
