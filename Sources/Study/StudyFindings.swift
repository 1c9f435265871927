import AnalysisCore
import Diagnostics

/// One coefficient (Spearman, Pearson or Kendall) between a distance and the merge loss, for
/// one metric and module: per task, their mean and population std, pooled over all pairs of the
/// relative loss, and a bootstrap interval of the mean.
public struct CorrelationSummary: Sendable, Equatable {
    /// Indexed like `tasks`; nil where undefined (fewer than three pairs or a constant side).
    public var perTask: [CorrelationResult?]
    /// Indexed like `tasks`: the pairs available to each task's coefficient, defined or not.
    public var perTaskCounts: [Int]
    public var mean: Double?
    /// Population standard deviation (divide by n) of the defined per-task values.
    public var std: Double?
    /// Over all ordered pairs (i, j) of δ(i,j)/|score(i on i)| against T̄(i,j); pairs whose own
    /// score is 0 are left out.
    public var pooled: CorrelationResult?
    /// 95 % percentile bootstrap interval of `mean`.
    public var ci95: (Double, Double)?

    public static func == (lhs: CorrelationSummary, rhs: CorrelationSummary) -> Bool {
        lhs.perTask == rhs.perTask && lhs.perTaskCounts == rhs.perTaskCounts && lhs.mean == rhs.mean && lhs.std == rhs.std && lhs.pooled == rhs.pooled
            && lhs.ci95?.0 == rhs.ci95?.0 && lhs.ci95?.1 == rhs.ci95?.1
    }
}

/// What the study adds to the distances: maps and an ordering of the tasks, and, with scores,
/// the merge losses and their correlations with every distance.
public struct StudyFindings: Sendable {
    public var pca: [DistanceMetric: [String: TaskMaps.PCA]]
    public var mds: [DistanceMetric: [String: TaskMaps.MDS]]
    public var clustering: [DistanceMetric: [String: TaskMaps.Clustering]]
    /// metric → module → the cut of `clustering` chosen by mean silhouette among
    /// `TaskClusters.defaultCandidates` (absent with fewer than three placed tasks). Indexed by
    /// task: a later copy of identical adapters has its first copy's cluster, a task left out for
    /// undefined distances −1; medoids are task indices.
    public var clusters: [DistanceMetric: [String: TaskClusters]] = [:]
    /// Groups of tasks whose updates are identical (l2 exactly 0 at every layer of every module),
    /// in task order: the first of each group stands for the group in maps and findings.
    public var duplicates: [[Int]] = []
    /// metric → module → the tasks left out of its maps and ordering (later duplicates, tasks
    /// whose distances are undefined); absent when every task is placed.
    public var leftOutOfMaps: [DistanceMetric: [String: [Int]]] = [:]
    /// Largest |T̄_grassmann − T̄_grassmann_b| per module (the Im(BA) = Im(B) identity).
    public var grassmannIdentity: [String: Double]
    public var scores: ScoreTable?
    public var delta: PairMatrix?
    public var correlations: [DistanceMetric: [String: [CorrelationKind: CorrelationSummary]]]
    public var warnings: [Warning]
    /// metric → module → the per-task Spearman at every single layer (with scores).
    public var perLayer: [DistanceMetric: [String: [LayerCorrelation]]] = [:]
    /// module → the best (metric, layer), with its Holm-adjusted p (with scores).
    public var bestLayer: [String: BestLayer] = [:]
    /// The leave-one-task-out prediction of the relative merge loss (with scores).
    public var prediction: MergeLossPrediction?

    /// The default ridge penalty λ of the prediction.
    public static let defaultRidgeLambda = 1.0

    /// Groups (in task order, two or more each) of tasks whose l2 distance is exactly 0 at every
    /// layer of every module: bit-identical updates (the kernels set an exact 0 for them).
    static func identicalGroups(_ analysis: StudyAnalysis) -> [[Int]] {
        let count = analysis.tasks.count
        guard let l2 = analysis.distances[.l2], !l2.isEmpty else { return [] }
        var groups: [[Int]] = []
        var grouped = Set<Int>()
        for i in 0..<count where !grouped.contains(i) {
            let copies = ((i + 1)..<max(count, i + 1)).filter { j in
                !grouped.contains(j) && l2.values.allSatisfy { !$0.layers.isEmpty && $0.layers.allSatisfy { $0[i, j] == 0 } }
            }
            guard !copies.isEmpty else { continue }
            groups.append([i] + copies)
            grouped.formUnion(copies)
        }
        return groups
    }

    /// `ridgeLambda` (> 0) is the penalty of the merge-loss prediction.
    public static func compute(_ analysis: StudyAnalysis, scores: ScoreTable?,
                               ridgeLambda: Double = defaultRidgeLambda) throws(ToolError) -> StudyFindings {
        guard ridgeLambda > 0, ridgeLambda.isFinite else {
            throw .usage("--ridge-lambda must be a positive number (got \(ridgeLambda))")
        }
        var findings = StudyFindings(pca: [:], mds: [:], clustering: [:], grassmannIdentity: [:], scores: scores,
                                     delta: nil, correlations: [:], warnings: [])
        let tasks = analysis.tasks
        findings.duplicates = identicalGroups(analysis)
        for group in findings.duplicates {
            findings.warnings.append(Warning("\(group.map { tasks[$0] }.joined(separator: ", ")) have identical updates "
                                             + "(l2 = 0 at every layer): kept in the distances, but only \(tasks[group[0]]) "
                                             + "is placed on the maps and orderings and counted in the findings"))
        }
        let copies = Set(findings.duplicates.flatMap { $0.dropFirst() })
        var undefinedLeftOut: [[String]: [(DistanceMetric, String)]] = [:]
        let blocks = mappedBlocks(analysis, duplicates: copies)
        let maps = try taskMaps(blocks)
        for block in blocks {
            let (metric, module, mapped, rows) = (block.key.metric, block.key.module, block.mapped, block.rows)
            if !mapped.leftOut.isEmpty { findings.leftOutOfMaps[metric, default: [:]][module] = mapped.leftOut }
            let undefined = mapped.leftOut.filter { !copies.contains($0) }.map { tasks[$0] }
            if !undefined.isEmpty { undefinedLeftOut[undefined, default: []].append((metric, module)) }
            let (pcaMap, mdsMap) = maps[block.key] ?? (nil, nil)
            if var pca = pcaMap {
                pca.coordinates = mapped.expand(pca.coordinates, count: tasks.count)
                findings.pca[metric, default: [:]][module] = pca
            }
            if var mds = mdsMap {
                mds.coordinates = mapped.expand(mds.coordinates, count: tasks.count)
                findings.mds[metric, default: [:]][module] = mds
                if !mds.nonPositiveComponents.isEmpty {
                    findings.warnings.append(Warning("MDS of \(metric.id) · \(module): "
                                                     + "eigenvalue \(mds.nonPositiveComponents.map { "λ\($0 + 1)" }.joined(separator: ", ")) ≤ 0 "
                                                     + "(the distances are not Euclidean there); that coordinate is 0"))
                }
            }
            if let clustering = TaskMaps.averageLinkage(rows) {
                findings.clustering[metric, default: [:]][module] = mapped.expand(clustering, count: tasks.count)
                if let candidates = TaskClusters.defaultCandidates(taskCount: rows.count),
                   let cut = TaskClusters.bySilhouette(rows, clustering: clustering, candidates: candidates) {
                    findings.clusters[metric, default: [:]][module] =
                        mapped.expand(cut, count: tasks.count, duplicates: findings.duplicates)
                }
            }
        }
        // One warning per set of tasks left out for undefined distances, naming where.
        for (names, places) in undefinedLeftOut.sorted(by: { $0.key.joined() < $1.key.joined() }) {
            let metrics = DistanceMetric.allCases.filter { metric in places.contains { $0.0 == metric } }.map(\.id)
            let modules = analysis.modules.filter { module in places.contains { $0.1 == module } }
            findings.warnings.append(Warning("\(names.joined(separator: ", ")) \(names.count == 1 ? "is" : "are") left out of the maps "
                                             + "and ordering of \(metrics.joined(separator: ", ")) (\(modules.joined(separator: ", "))): "
                                             + "\(names.count == 1 ? "its" : "their") distances there are undefined"))
        }
        for module in analysis.modules {
            guard let a = analysis.distances[.grassmann]?[module]?.mean, let b = analysis.distances[.grassmannB]?[module]?.mean else { continue }
            // Only where both are defined (grassmann_b is undefined throughout for full fine-tuning).
            if let largest = zip(a.values, b.values).filter({ $0.isFinite && $1.isFinite }).map({ abs($0 - $1) }).max() {
                findings.grassmannIdentity[module] = largest
            }
        }
        guard let scores else { return findings }
        findings.warnings += scores.warnings
        let (delta, missing) = scores.delta(tasks: tasks)
        findings.delta = delta
        let own = scores.selfScores(tasks: tasks)
        (findings.perLayer, findings.bestLayer) = layerCorrelations(analysis, delta: delta)
        findings.prediction = predict(analysis, delta: delta, ownScores: own, lambda: ridgeLambda)
        if !missing.isEmpty {
            let pointer = findings.prediction == nil ? ""
                : "; predicted from the distances in tables/merge-predictions.csv (merge-predictions.csv with analyze)"
            findings.warnings.append(Warning("\(scores.path): no score for \(missing.count) merge\(missing.count > 1 ? "s" : "") (δ undefined): "
                                             + "\(missing.prefix(12).joined(separator: ", "))\(missing.count > 12 ? ", …" : "")\(pointer)"))
        }
        for metric in DistanceMetric.allCases {
            for module in analysis.modules {
                guard let mean = analysis.distances[metric]?[module]?.mean else { continue }
                for kind in CorrelationKind.allCases {
                    findings.correlations[metric, default: [:]][module, default: [:]][kind] =
                        summarize(kind, distances: mean, delta: delta, ownScores: own)
                }
            }
        }
        return findings
    }

    struct MapKey: Hashable, Sendable {
        var metric: DistanceMetric
        var module: String
    }

    /// One metric and module's layer mean as the maps and the clustering see it: the tasks placed
    /// and their rows. An asymmetric metric (Comb's, row = host) is read as ½(T̄ + T̄ᵀ).
    struct MappedBlock: Sendable {
        var key: MapKey
        var mapped: MappedTasks
        var rows: [[Double]]
    }

    /// Every metric and module with a layer mean and at least one task to place, in metric then
    /// module order. A metric undefined everywhere (grassmann_b of full fine-tuning) has none and
    /// no warning here: its own warning explains it.
    static func mappedBlocks(_ analysis: StudyAnalysis, duplicates: Set<Int>) -> [MappedBlock] {
        var blocks: [MappedBlock] = []
        for metric in DistanceMetric.allCases {
            for module in analysis.modules {
                guard let layerMean = analysis.distances[metric]?[module]?.mean else { continue }
                let mean = metric.descriptor.isSymmetric ? layerMean : Self.symmetrised(layerMean)
                let mapped = MappedTasks(mean, duplicates: duplicates)
                guard !mapped.kept.isEmpty else { continue }
                blocks.append(MappedBlock(key: MapKey(metric: metric, module: module), mapped: mapped, rows: mapped.rows(of: mean)))
            }
        }
        return blocks
    }

    /// PCA and MDS of every block's rows, on all cores: at N = 1000 each is an eigen/SVD problem
    /// of 1000 × 1000, and a study has 14 of them.
    static func taskMaps(_ blocks: [MappedBlock]) throws(ToolError) -> [MapKey: (TaskMaps.PCA?, TaskMaps.MDS?)] {
        let jobs = blocks.map { ($0.key, $0.rows) }
        let work = jobs
        let results = try ConcurrentWork.map(count: work.count, onFailure: .stopClaiming) { index throws(ToolError) in
            (try TaskMaps.pca(work[index].1), try TaskMaps.mds(work[index].1))
        }
        return Dictionary(uniqueKeysWithValues: zip(work.map(\.0), results))
    }

    /// ½(D + Dᵀ); NaN where either entry is.
    public static func symmetrised(_ matrix: PairMatrix) -> PairMatrix {
        var out = matrix
        for i in 0..<matrix.count {
            for j in 0..<matrix.count { out[i, j] = (matrix[i, j] + matrix[j, i]) / 2 }
        }
        return out
    }

    static func summarize(_ kind: CorrelationKind, distances: PairMatrix, delta: PairMatrix, ownScores: [Double?]) -> CorrelationSummary {
        var perTask: [CorrelationResult?] = []
        var counts: [Int] = []
        var pooledX: [Double] = [], pooledY: [Double] = []
        for (i, (x, y)) in perTaskSamples(distances, delta: delta).enumerated() {
            if let own = ownScores[i], own != 0 {
                pooledX += x
                pooledY += y.map { $0 / abs(own) }
            }
            perTask.append(Correlation.compute(kind, x, y))
            counts.append(x.count)
        }
        let values = perTask.compactMap { $0?.value }
        let mean = values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        let std = mean.map { m in (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)).squareRoot() }
        return CorrelationSummary(perTask: perTask, perTaskCounts: counts, mean: mean, std: std,
                                  pooled: Correlation.compute(kind, pooledX, pooledY),
                                  ci95: Bootstrap.meanInterval95(values))
    }
}
