import Foundation

/// A realistic, deterministic 10-task input for the gallery and for tests: task distances and
/// correlations, PCA coordinates with explained variance, per-layer distances and a module ×
/// metric correlation table. The numbers are synthetic (a seeded generator), shaped like the
/// study's: two task families, distances growing with depth.
public struct GallerySample: Sendable {
    public var tasks: [String]
    public var families: [String]
    /// Symmetric task × task distances in 0...1, zero diagonal; one pair is NaN (a missing block).
    public var distances: [[Double]]
    /// Symmetric task × task cosine similarities in −1...1, unit diagonal.
    public var correlations: [[Double]]
    /// A clustering-like display order (by family, then by first coordinate).
    public var order: [Int]
    public var pcaCoordinates: [(x: Double, y: Double)]
    public var explainedVariance: (first: Double, second: Double)
    /// Layers 0...11, one distance-to-centroid series per task.
    public var layerSeries: [LayerSeries]
    /// Layers 0...11, distances of four task pairs.
    public var pairSeries: [LayerSeries]
    public var correlationTable: TableData
    /// One entry per task pair (i < j): the cosine distance from `distances` (NaN for the missing
    /// pair) and a second, Grassmann-like distance that grows with it, plus noise.
    public var pairDistances: [(pair: String, cosine: Double, grassmann: Double)]

    public static let standard = GallerySample()

    public init() {
        var random = SplitMix64(seed: 0x7467_656F)
        let tasks = ["cola", "mrpc", "rte", "sst2", "stsb", "émotion", "hate", "irony", "offensive-language-identification", "θ-task"]
        let families = ["GLUE", "GLUE", "GLUE", "GLUE", "GLUE", "TweetEval", "TweetEval", "TweetEval", "TweetEval", "synthetic"]
        let n = tasks.count
        // Latent task vectors: family offset on the first axis, decreasing spread on the others.
        let spreads = [1.0, 0.75, 0.45, 0.3]
        let latent: [[Double]] = (0..<n).map { i in
            let offset = families[i] == "GLUE" ? -1.3 : (families[i] == "TweetEval" ? 1.1 : 0.4)
            return spreads.enumerated().map { k, s in (k == 0 ? offset : (k == 1 && families[i] == "synthetic" ? 1.6 : 0)) + s * random.normal() }
        }
        let means = (0..<spreads.count).map { k in latent.map { $0[k] }.reduce(0, +) / Double(n) }
        let centred = latent.map { v in zip(v, means).map { $0 - $1 } }
        func distance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() }
        let raw = centred.map { a in centred.map { b in distance(a, b) } }
        let largest = raw.joined().max() ?? 1
        var distances = raw.map { $0.map { $0 / largest } }
        distances[2][7] = .nan
        distances[7][2] = .nan
        func cosine(_ a: [Double], _ b: [Double]) -> Double {
            let dot = zip(a, b).map { $0 * $1 }.reduce(0, +)
            return dot / ((a.map { $0 * $0 }.reduce(0, +) * b.map { $0 * $0 }.reduce(0, +)).squareRoot())
        }
        self.tasks = tasks
        self.families = families
        self.distances = distances
        correlations = centred.map { a in centred.map { b in cosine(a, b) } }
        pcaCoordinates = centred.map { ($0[0], $0[1]) }
        let variances = (0..<spreads.count).map { k in centred.map { $0[k] * $0[k] }.reduce(0, +) }
        let total = variances.reduce(0, +)
        explainedVariance = (variances[0] / total, variances[1] / total)
        order = (0..<n).sorted { a, b in
            families[a] != families[b] ? families[a] < families[b] : centred[a][0] < centred[b][0]
        }

        let layers = (0..<12).map(Double.init)
        layerSeries = (0..<n).map { i in
            let scale = 0.8 + 0.5 * abs(centred[i][0]) / 2
            let values = layers.map { l in
                (0.18 + 0.55 * pow(l / 11, 1.6)) * scale + 0.015 * random.normal()
            }
            return LayerSeries(name: tasks[i], values: values)
        }
        let pairs = [(0, 1), (3, 5), (6, 7), (2, 9)]
        pairSeries = pairs.map { a, b in
            let base = distances[a][b].isNaN ? 0.5 : distances[a][b]
            let values = layers.map { l in 0.1 + base * (0.35 + 0.65 * pow(l / 11, 1.3)) + 0.012 * random.normal() }
            return LayerSeries(name: tasks[a] + "–" + tasks[b], values: values)
        }
        pairSeries[3].values[5] = .nan  // one missing layer

        let modules = ["query", "key", "value", "attention.output", "intermediate", "output"]
        let metrics = ["Cosine", "Grassmann", "Frobenius", "CKA"]
        let bias = [0.55, 0.62, 0.48, 0.71]
        var tableMeans: [[Double]] = []
        var tableStds: [[Double]] = []
        for _ in modules {
            tableMeans.append(bias.map { min(0.98, max(-0.2, $0 + 0.12 * random.normal())) })
            tableStds.append(bias.map { _ in 0.03 + 0.05 * abs(random.normal()) })
        }
        correlationTable = TableData.meanAndStd(
            rowHeaders: modules, columnHeaders: metrics, means: tableMeans, stds: tableStds, decimals: 2, best: .highest,
            cornerHeader: "Module", title: "Correlation with transfer gain",
            caption: "Spearman ρ over 10 tasks, mean (std) across 5 seeds; the best metric of each module in bold.")

        var everyPair: [(pair: String, cosine: Double, grassmann: Double)] = []
        for i in 0..<n {
            for j in (i + 1)..<n {
                let c = distances[i][j]
                let g = min(1, max(0, 0.25 + 0.6 * (c.isNaN ? 0.5 : c) + 0.08 * random.normal()))
                everyPair.append((tasks[i] + "–" + tasks[j], c, g))
            }
        }
        pairDistances = everyPair
    }

    /// Spearman's rank correlation of the pairs with both values finite (ties get their mean
    /// rank) and how many pairs that is; NaN for fewer than two pairs or a constant variable.
    public static func spearman(_ pairs: [(x: Double, y: Double)]) -> (rho: Double, n: Int) {
        let finite = pairs.filter { $0.x.isFinite && $0.y.isFinite }
        func ranks(_ values: [Double]) -> [Double] {
            let order = values.indices.sorted { values[$0] < values[$1] }
            var result = [Double](repeating: 0, count: values.count)
            var start = 0
            while start < order.count {
                var end = start
                while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
                for k in start...end { result[order[k]] = Double(start + end) / 2 + 1 }
                start = end + 1
            }
            return result
        }
        let rx = ranks(finite.map(\.x)), ry = ranks(finite.map(\.y))
        let n = Double(finite.count)
        guard finite.count >= 2 else { return (.nan, finite.count) }
        let mx = rx.reduce(0, +) / n, my = ry.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(rx, ry) {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        return (sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan, finite.count)
    }
}

/// A small deterministic generator (SplitMix64) with a Box–Muller normal.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992 }

    mutating func normal() -> Double {
        (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
    }
}
