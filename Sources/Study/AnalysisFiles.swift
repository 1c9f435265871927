import AnalysisCore
import Foundation
import JSONText

/// The files `tvgeo analyze` writes, as (relative path, contents): one table, several writers.
public enum AnalysisFiles {
    public static func files(for analysis: StudyAnalysis, tool: ToolInfo = ToolInfo()) -> [OutputFile] {
        var files = [OutputFile("metrics.json", text: JSONWriter.string(MetricsDocument.json(analysis, tool: tool)))]
        for metric in DistanceMetric.allCases {
            for module in analysis.modules {
                guard let layered = analysis.distances[metric]?[module] else { continue }
                files.append(OutputFile("distances-\(metric.rawValue)-\(OutputNaming.component(module)).csv",
                                        text: MatrixCSV.text(tasks: analysis.tasks, matrix: layered.mean)))
            }
        }
        return files
    }
}

/// The console view of an analysis: per metric and module, the layer-mean matrix.
public enum AnalysisSummary {
    public static func text(_ analysis: StudyAnalysis) -> String {
        var lines: [String] = []
        lines.append("tasks: \(analysis.tasks.joined(separator: ", "))")
        lines.append("modules: \(analysis.modules.joined(separator: ", "))")
        let width = max(8, (analysis.tasks.map(\.count).max() ?? 0) + 1)
        func pad(_ text: String) -> String {
            text.count >= width ? String(text.prefix(width - 1)) + " " : text + String(repeating: " ", count: width - text.count)
        }
        for module in analysis.modules {
            for metric in DistanceMetric.allCases {
                guard let layered = analysis.distances[metric]?[module] else { continue }
                lines.append("")
                lines.append("\(metric.rawValue) · \(module) · mean over layers \(layered.layerIDs.map(String.init).joined(separator: ","))")
                lines.append(pad("") + analysis.tasks.map(pad).joined())
                for (index, row) in layered.mean.rows.enumerated() {
                    lines.append(pad(analysis.tasks[index]) + row.map { pad($0.isNaN ? "—" : String(format: "%.4g", $0)) }.joined())
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}
