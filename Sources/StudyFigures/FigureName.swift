import AnalysisCore
import Study

/// The one place figures are named: `<kind>-<metric>-<module>` (file stems under figures/, ids in
/// the report). The hierarchy view names two metrics (`hierarchy-<y>-<x>-<module>`), the merge-loss
/// heatmap none (`heatmap-delta`). Module names pass through `OutputNaming.component`.
public enum FigureName {
    /// What a figure shows.
    public enum Kind: String, Sendable, CaseIterable {
        case heatmap, pca, mds, profile, hierarchy, delta
        /// Layers × metrics: the per-layer Spearman with the merge loss (`layers-<module>`).
        case layers
    }

    /// `<kind>-<metric>…-<module>`, where `module` is the module as file names spell it
    /// (`StudyAnalysis.fileComponent(ofModule:)`, unique within a study); it goes through
    /// `OutputNaming.component`, which leaves such a name as it is.
    public static func of(_ kind: Kind, _ metrics: DistanceMetric..., module: String?) -> String {
        ([kind.rawValue] + metrics.map(\.id) + (module.map { [OutputNaming.component($0)] } ?? [])).joined(separator: "-")
    }

    /// The merge-loss heatmap δ(i, j).
    public static let deltaHeatmap = Kind.heatmap.rawValue + "-delta"

    /// A study of both kinds: each kind's own figures carry its prefix (`fft-heatmap-cosine-query`,
    /// `lora-…`); the cross-kind figures are `crosskind-heatmap-cosine-<module>` (LoRA × f-FT),
    /// `crosskind-profile-<metric>-<module>` (same task, per layer) and `intruders-<module>`.
    public static func ofKind(_ kind: FineTuningKind, _ name: String) -> String {
        (kind == .full ? "fft-" : "lora-") + name
    }

    public static func crossKind(_ kind: Kind, _ metric: DistanceMetric, module: String) -> String {
        "crosskind-" + of(kind, metric, module: module)
    }

    public static func intruders(module: String) -> String {
        "intruders-" + OutputNaming.component(module)
    }
}
