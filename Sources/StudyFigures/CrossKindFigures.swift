import AnalysisCore
import Charts
import Study

/// The figures of a study of both kinds, as chart scenes: the LoRA × f-FT cosine heatmap, the
/// same-task distances per layer, and the intruder counts (layers × tasks of both kinds).
public enum CrossKindFigures {
    /// Layer-mean cosine distance between every LoRA update (rows) and full fine-tuning update (columns).
    public static func cosineHeatmap(_ cross: CrossKindAnalysis, module: String, width: Double) -> Scene? {
        guard cross.cosine[module] != nil else { return nil }
        let heatmap = Heatmap(values: cross.cosineMean(module), rowLabels: cross.tasks.map { "LoRA " + $0 },
                              columnLabels: cross.tasks.map { "f-FT " + $0 },
                              title: "LoRA × full fine-tuning · cosine · \(module)",
                              subtitle: "1 − cos(ΔW_i, τ_j), mean over layers; diagonal: same task",
                              annotate: cross.tasks.count <= 12, decimals: 3, colorBarTitle: "cosine distance")
        return heatmap.scene(width: width)
    }

    /// The same-task distance between the two kinds at each layer, one line per task.
    public static func sameTaskProfile(_ cross: CrossKindAnalysis, metric: DistanceMetric, module: String, width: Double) -> Scene? {
        guard let layerIDs = cross.layerIDs[module], layerIDs.count > 1 else { return nil }
        let layers = layerIDs.map(Double.init)
        let series: [LayerSeries]
        let yTitle: String
        switch metric {
        case .cosine:
            guard let perLayer = cross.cosine[module] else { return nil }
            series = cross.tasks.indices.map { i in LayerSeries(name: cross.tasks[i], values: perLayer.map { $0[i][i] }, layers: layers) }
            yTitle = "cosine distance"
        case .grassmann:
            guard let perTask = cross.grassmann[module] else { return nil }
            series = cross.tasks.indices.map { i in LayerSeries(name: cross.tasks[i], values: perTask[i], layers: layers) }
            yTitle = "Grassmann (rad)"
        default:
            return nil
        }
        var profile = LayerProfile(series: series, yTitle: yTitle,
                                   title: "Same task, LoRA vs f-FT · \(metric.id) · \(module)",
                                   subtitle: metric == .cosine ? "1 − cos(ΔW_t, τ_t) per layer"
                                       : "Im(ΔW_t) against τ_t's top-r left singular vectors")
        profile.markers = layerIDs.count <= 16
        return profile.scene(width: width)
    }

    /// Intruder dimensions per layer (columns) for every task of both kinds (rows); the colour range is
    /// 0 to the largest count, at least 3, so that a single intruder does not take the top colour.
    public static func intruders(_ cross: CrossKindAnalysis, module: String, width: Double) -> Scene? {
        guard let layerIDs = cross.layerIDs[module], let lora = cross.intruders[.lora]?[module],
              let fft = cross.intruders[.full]?[module] else { return nil }
        let rows = cross.tasks.indices.map { lora[$0].map(Double.init) } + cross.tasks.indices.map { fft[$0].map(Double.init) }
        let labels = cross.tasks.map { "LoRA " + $0 } + cross.tasks.map { "f-FT " + $0 }
        let heatmap = Heatmap(values: rows, rowLabels: labels, columnLabels: layerIDs.map { "layer \($0)" },
                              title: "Intruder dimensions · \(module)",
                              subtitle: "top-\(cross.intruderK) singular vectors of W_t with max |cos| < \(cross.intruderEpsilon) "
                                  + "against W₀'s",
                              colorScale: .viridis, range: 0...max(3, rows.flatMap { $0 }.max() ?? 3), annotate: true, decimals: 0,
                              colorBarTitle: "intruders")
        return heatmap.scene(width: width)
    }
}
