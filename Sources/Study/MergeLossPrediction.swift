import AnalysisCore
import Diagnostics

/// Spearman's ρ between δ(i, ·) and the distance at one layer, over the tasks.
public struct LayerCorrelation: Sendable, Equatable {
    public var layer: Int
    /// Mean and population std of the defined per-task ρ; nil when no task has one.
    public var mean: Double?
    public var std: Double?
    /// Tasks with a defined ρ.
    public var n: Int
    /// Two-sided p of the one-sample t-test of mean ρ = 0 over those tasks (nil: < 2 tasks or no spread).
    public var p: Double?
}

/// The (metric, layer) of one module whose per-task ρ has the largest mean, with its p-value
/// Holm-adjusted over every (metric, layer) test of the module.
public struct BestLayer: Sendable, Equatable {
    public var metric: DistanceMetric
    public var layer: Int
    public var mean: Double
    public var std: Double
    public var n: Int
    public var p: Double
    public var holmP: Double
    /// How many (metric, layer) tests the adjustment covers.
    public var tests: Int
}

/// Leave-one-task-out prediction of the relative merge loss y(i,j) = δ(i,j)/|score(i on i)|.
public struct MergeLossPrediction: Sendable {
    /// "<metric>/<module>": every layer-mean matrix with no undefined off-diagonal value, metrics in
    /// canonical order, then modules in the analysis's order.
    public var features: [String]
    public var ridgeLambda: Double
    /// Per held-out task (indexed like `tasks`): Spearman between the ridge's predictions and y over
    /// its rows (t, j); nil with < 3 rows or a constant side.
    public var perTask: [Double?]
    public var mean: Double?
    public var std: Double?
    /// Per held-out task: the feature with the highest Spearman with y on the training rows (first
    /// in feature order on ties) and its Spearman on the task's rows; nil when no feature has one.
    public var selectBest: [(feature: String, rho: Double?)?]
    public var selectBestMean: Double?
    public var selectBestStd: Double?
    /// Every ordered pair (i ≠ j), from the ridge fitted on all evaluated rows; `observed` is y where
    /// it is known.
    public var mergePredictions: [(host: Int, partner: Int, predicted: Double, observed: Double?)]
}

extension StudyFindings {
    /// The per-task samples of the correlations: for task i, the pairs (distance(i, j), δ(i, j))
    /// over the partners j ≠ i where both are defined.
    static func perTaskSamples(_ distances: PairMatrix, delta: PairMatrix) -> [(x: [Double], y: [Double])] {
        (0..<distances.count).map { i in
            var x: [Double] = [], y: [Double] = []
            for j in 0..<distances.count where j != i && distances[i, j].isFinite && delta[i, j].isFinite {
                x.append(distances[i, j])
                y.append(delta[i, j])
            }
            return (x, y)
        }
    }

    /// Mean and population std, nil for no values.
    static func meanAndStd(_ values: [Double]) -> (Double?, Double?) {
        guard !values.isEmpty else { return (nil, nil) }
        let mean = values.reduce(0, +) / Double(values.count)
        return (mean, (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot())
    }

    /// Per metric and module, the per-task Spearman at every single layer; per module, the best
    /// (metric, layer) with its Holm-adjusted p.
    static func layerCorrelations(_ analysis: StudyAnalysis, delta: PairMatrix)
        -> ([DistanceMetric: [String: [LayerCorrelation]]], [String: BestLayer]) {
        var table: [DistanceMetric: [String: [LayerCorrelation]]] = [:]
        var best: [String: BestLayer] = [:]
        for module in analysis.modules {
            var tests: [(DistanceMetric, LayerCorrelation)] = []
            for metric in DistanceMetric.allCases {
                guard let layered = analysis.distances[metric]?[module] else { continue }
                let rows = zip(layered.layerIDs, layered.layers).map { layer, matrix -> LayerCorrelation in
                    let rhos = perTaskSamples(matrix, delta: delta).compactMap { Correlation.spearmanCoefficient($0.x, $0.y) }
                    let (mean, std) = meanAndStd(rhos)
                    return LayerCorrelation(layer: layer, mean: mean, std: std, n: rhos.count, p: Correlation.oneSampleTTestP(rhos))
                }
                table[metric, default: [:]][module] = rows
                tests += rows.filter { $0.mean != nil && $0.p != nil }.map { (metric, $0) }
            }
            guard !tests.isEmpty else { continue }
            let adjusted = Correlation.holmAdjusted(tests.map { $0.1.p! })
            // The largest mean ρ; the first in (metric, layer) order on ties.
            var top = 0
            for k in tests.indices where tests[k].1.mean! > tests[top].1.mean! { top = k }
            let (metric, row) = tests[top]
            best[module] = BestLayer(metric: metric, layer: row.layer, mean: row.mean!, std: row.std!, n: row.n, p: row.p!,
                                     holmP: adjusted[top], tests: tests.count)
        }
        return (table, best)
    }

    /// The leave-one-task-out ridge and select-best baseline, and every pair's prediction from the
    /// ridge fitted on all evaluated rows; nil when no feature or no evaluated row exists.
    static func predict(_ analysis: StudyAnalysis, delta: PairMatrix, ownScores: [Double?], lambda: Double) -> MergeLossPrediction? {
        let n = analysis.tasks.count
        var names: [String] = [], columns: [PairMatrix] = []
        for metric in DistanceMetric.allCases {
            for module in analysis.modules {
                guard let mean = analysis.distances[metric]?[module]?.mean else { continue }
                let complete = (0..<n).allSatisfy { i in (0..<n).allSatisfy { j in i == j || mean[i, j].isFinite } }
                if complete {
                    names.append("\(metric.id)/\(module)")
                    columns.append(mean)
                }
            }
        }
        // Evaluated ordered pairs with a non-zero own score, in (host, partner) order.
        var rows: [(i: Int, j: Int, y: Double)] = []
        for i in 0..<n {
            guard let own = ownScores[i], own != 0 else { continue }
            for j in 0..<n where j != i && delta[i, j].isFinite { rows.append((i, j, delta[i, j] / abs(own))) }
        }
        guard !names.isEmpty, !rows.isEmpty else { return nil }
        func features(_ i: Int, _ j: Int) -> [Double] { columns.map { $0[i, j] } }
        var perTask: [Double?] = [], selectBest: [(feature: String, rho: Double?)?] = []
        for t in 0..<n {
            let train = rows.filter { $0.i != t && $0.j != t }, test = rows.filter { $0.i == t }
            guard !train.isEmpty, !test.isEmpty else {
                perTask.append(nil)
                selectBest.append(nil)
                continue
            }
            let trainX = train.map { features($0.i, $0.j) }, trainY = train.map(\.y)
            let testX = test.map { features($0.i, $0.j) }, testY = test.map(\.y)
            let model = RidgeModel(rows: trainX, targets: trainY, lambda: lambda)
            perTask.append(Correlation.spearmanCoefficient(testX.map(model.predict), testY))
            var chosen: (Int, Double)?
            for f in names.indices {
                guard let rho = Correlation.spearmanCoefficient(trainX.map { $0[f] }, trainY) else { continue }
                if chosen == nil || rho > chosen!.1 { chosen = (f, rho) }
            }
            selectBest.append(chosen.map { f, _ in (names[f], Correlation.spearmanCoefficient(testX.map { $0[f] }, testY)) })
        }
        let (mean, std) = meanAndStd(perTask.compactMap { $0 })
        let (bestMean, bestStd) = meanAndStd(selectBest.compactMap { $0?.rho })
        let model = RidgeModel(rows: rows.map { features($0.i, $0.j) }, targets: rows.map(\.y), lambda: lambda)
        var observed: [Int: Double] = [:]
        for row in rows { observed[row.i * n + row.j] = row.y }
        var predictions: [(host: Int, partner: Int, predicted: Double, observed: Double?)] = []
        for i in 0..<n {
            for j in 0..<n where j != i { predictions.append((i, j, model.predict(features(i, j)), observed[i * n + j])) }
        }
        return MergeLossPrediction(features: names, ridgeLambda: lambda, perTask: perTask, mean: mean, std: std,
                                   selectBest: selectBest, selectBestMean: bestMean, selectBestStd: bestStd,
                                   mergePredictions: predictions)
    }
}
