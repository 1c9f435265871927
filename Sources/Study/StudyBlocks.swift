import AnalysisCore
import Diagnostics
import TensorIO

/// What the two sibling pipelines, `LoRAStudy` and `FullFineTuneStudy`, share between their
/// (module, layer) blocks and the `StudyAnalysis`: the block order, the `--modules` filter, the
/// subspace-rank check, and the assembly of the kernels' matrices into layered distances.
enum StudyBlocks {
    /// Blocks in (module name, layer) order, the order of every output.
    static func sorted(_ keys: some Sequence<BlockKey>, names: [ModuleKey: String]) -> [BlockKey] {
        keys.sorted { names[$0.module]! == names[$1.module]! ? $0.layer < $1.layer : names[$0.module]! < names[$1.module]! }
    }

    /// The `--modules` filter: `requested` (nil: all of `available`) checked against the modules
    /// the inputs have; a missing one is a usage error naming `source` and, after `having`,
    /// what it does have.
    static func selectModules(_ requested: [String]?, available: [String], source: String,
                              having: String) throws(ToolError) -> [String] {
        guard let requested else { return available }
        let unknown = requested.filter { !available.contains($0) }
        guard unknown.isEmpty else {
            throw .usage("--modules: no module \(unknown.map(Wording.quoted).joined(separator: ", ")) in \(source) "
                         + "(\(having) \(available.sorted().map(Wording.escaped).joined(separator: ", ")))")
        }
        return requested
    }

    /// The dimension k of the singular subspaces compared for full fine-tuning.
    static func checkSubspaceRank(_ k: Int) throws(ToolError) {
        guard k >= 1 else { throw .usage("--subspace-rank must be at least 1 (got \(k))") }
    }

    /// Per metric, the layers of one module (`blocks`, in layer order) and their mean. Every
    /// metric that applies to `kind` must have been filled by the kernel (else an internal
    /// error: a metric added without its kernel); the others are `null` throughout.
    static func layered(_ kind: FineTuningKind, blocks: [[DistanceMetric: PairMatrix]], layerIDs: [Int],
                        count: Int) throws(ToolError) -> [DistanceMetric: LayeredDistances] {
        var distances: [DistanceMetric: LayeredDistances] = [:]
        let applying = DistanceMetric.applying(to: kind)
        for metric in DistanceMetric.allCases {
            var layers: [PairMatrix] = []
            for block in blocks {
                if let matrix = block[metric] {
                    layers.append(matrix)
                } else if applying.contains(metric) {
                    throw .internalError("the \(kind.rawValue) kernel did not compute metric \(metric.id)")
                } else {
                    layers.append(PairMatrix(count: count))
                }
            }
            distances[metric] = LayeredDistances(layerIDs: layerIDs, layers: layers, mean: layerMean(layers, count: count))
        }
        return distances
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

    /// "cosine and grassmann are" / "grassmann_b is": the metrics of `kind` left undefined when
    /// `subspace` is {0}, for warnings; nil when none is.
    static func undefinedMetricsPhrase(when subspace: SubspaceKind, kind: FineTuningKind) -> String? {
        let metrics = DistanceMetric.applying(to: kind).filter { $0.descriptor.undefinedWhenZero == subspace }
        guard !metrics.isEmpty else { return nil }
        return DistanceMetric.sentenceList(metrics) + (metrics.count > 1 ? " are" : " is")
    }
}
