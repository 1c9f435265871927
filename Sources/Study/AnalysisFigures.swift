import AnalysisCore
import Charts
import Diagnostics
import Foundation

/// Figures of an analysis: for each metric and module, a heatmap of the layer-mean matrix.
/// Built as chart values, rendered by the chart kit's one renderer in the requested formats.
public enum AnalysisFigures {
    /// Display names and units of the metrics, as figure titles and colour-bar titles.
    static func label(_ metric: DistanceMetric) -> (title: String, unit: String) {
        switch metric {
        case .l2: return ("L2 distance ‖ΔWᵢ − ΔWⱼ‖", "weight units")
        case .cosine: return ("Cosine distance", "1 − cos")
        case .grassmann: return ("Grassmann distance, Im(ΔW)", "radians")
        case .grassmannB: return ("Grassmann distance, Im(B)", "radians")
        case .grassmannA: return ("Grassmann distance, row space of A", "radians")
        }
    }

    public static func heatmaps(for analysis: StudyAnalysis, formats: [OutputFormat],
                                width: Double = FigureWidth.doubleColumn) throws(ToolError) -> [OutputFile] {
        var files: [OutputFile] = []
        for module in analysis.modules {
            for metric in DistanceMetric.allCases {
                guard let layered = analysis.distances[metric]?[module] else { continue }
                let (title, unit) = label(metric)
                let layers = layered.layerIDs.count == 1 ? "layer \(layered.layerIDs[0])" : "mean over \(layered.layerIDs.count) layers"
                // The colour scale spans the off-diagonal values: the zero diagonal would otherwise
                // compress every pair into one end of the map (diagonal cells clamp to the low end).
                let heatmap = Heatmap(values: layered.mean.rows, labels: analysis.tasks,
                                      title: "\(title) · \(module)", subtitle: "\(analysis.tasks.count) tasks, \(layers)",
                                      colorScale: .viridis, range: offDiagonalRange(layered.mean), annotate: analysis.tasks.count <= 12,
                                      decimals: metric == .cosine ? 3 : 2, colorBarTitle: unit)
                let scene = heatmap.scene(width: width)
                let name = "heatmap-\(metric.rawValue)-\(OutputNaming.component(module))"
                for format in formats {
                    do {
                        let bytes = try CairoRenderer().render(scene, format: format, figureID: name.replacingOccurrences(of: ".", with: "_"))
                        files.append(OutputFile("figures/\(name).\(format.fileExtension)", bytes))
                    } catch {
                        throw .internalError("rendering \(name).\(format.fileExtension): \(error)")
                    }
                }
            }
        }
        return files
    }

    /// The range of the finite off-diagonal values, or nil when there are none.
    static func offDiagonalRange(_ matrix: PairMatrix) -> ClosedRange<Double>? {
        var values: [Double] = []
        for i in 0..<matrix.count {
            for j in 0..<matrix.count where i != j && matrix[i, j].isFinite { values.append(matrix[i, j]) }
        }
        guard let low = values.min(), let high = values.max(), high > low else { return nil }
        return low...high
    }
}
