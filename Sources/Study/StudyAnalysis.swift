import AnalysisCore
import Diagnostics
import TensorIO

/// The distances of one metric and module over the analysed layers.
public struct LayeredDistances: Sendable {
    public var layerIDs: [Int]
    /// One N×N matrix per entry of `layerIDs`.
    public var layers: [PairMatrix]
    /// The average over the layers where each value is defined; NaN where none is.
    public var mean: PairMatrix
}

/// What the study knows about one adapter, for the report and `metrics.json`.
public struct AdapterSummary: Sendable {
    public struct Module: Sendable {
        public var name: String
        public var layers: [Int]
        public var ranks: [Int]
        public var alphas: [Double]
        public var scalings: [Double]
    }
    public var task: String
    public var path: String
    public var weightsPath: String
    public var kind: String
    public var baseModel: String?
    public var modules: [Module]
    public var ignoredTensors: [String]
}

/// The result of `tvgeo analyze`: pure values, handed to every writer.
public struct StudyAnalysis: Sendable {
    public var tasks: [String]
    /// Analysed modules, sorted by name.
    public var modules: [String]
    public var adapters: [AdapterSummary]
    public var warnings: [Warning]
    /// metric → module → distances.
    public var distances: [DistanceMetric: [String: LayeredDistances]]
    /// module → subspace kind → per adapter, per layer numerical rank.
    /// nil where an adapter does not have the block.
    public var subspaceRanks: [String: [SubspaceKind: [[Int?]]]]
    /// module → per adapter, per layer ‖ΔW‖_F.
    public var norms: [String: [[Double]]]
    /// Full fine-tuning only: module → per checkpoint, per layer, the spectrum of τ.
    public var spectra: [String: [[TaskVectorSpectrum]]] = [:]
    /// Full fine-tuning only: the requested subspace dimension k.
    public var subspaceRank: Int? = nil
    /// How the task vectors were obtained; decides which metrics apply.
    public var kind: FineTuningKind = .lora
    /// The tasks of each module that not every adapter has (the others' distances there are null);
    /// absent for modules every adapter has.
    public var moduleTasks: [String: [String]] = [:]
}

extension StudyAnalysis {
    /// `module` as file names spell it (`distances-<metric>-<module>.csv`, `figures/<kind>-<metric>-<module>.svg`):
    /// `OutputNaming.component` of it, made unique among `modules` by `OutputNaming.components`.
    public func fileComponent(ofModule module: String) -> String {
        OutputNaming.components(modules)[module] ?? OutputNaming.component(module)
    }

    /// The same analysis with only `modules` (in the analysis's order); adapters keep their
    /// summaries of the kept modules.
    public func restricted(toModules modules: [String]) -> StudyAnalysis {
        var copy = self
        let keep = Set(modules)
        copy.modules = self.modules.filter(keep.contains)
        copy.distances = distances.mapValues { $0.filter { keep.contains($0.key) } }
        copy.subspaceRanks = subspaceRanks.filter { keep.contains($0.key) }
        copy.norms = norms.filter { keep.contains($0.key) }
        copy.spectra = spectra.filter { keep.contains($0.key) }
        copy.moduleTasks = moduleTasks.filter { keep.contains($0.key) }
        copy.adapters = adapters.map { adapter in
            var adapter = adapter
            adapter.modules = adapter.modules.filter { keep.contains($0.name) }
            return adapter
        }
        return copy
    }
}
