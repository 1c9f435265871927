import AnalysisCore
import Charts
import Diagnostics
import Foundation
import JSONText
import Study

/// The files of a report, in the requested formats, as (path, bytes) for `OutputFolder`:
/// report.html, report.pdf, metrics.json, figures/<name>.svg|pdf|png, tables/<name>.tex|csv.
public enum ReportFiles {
    public static func files(_ document: ReportDocument, analysis: StudyAnalysis, findings: StudyFindings,
                             formats: [ReportFormat], templates: ReportTemplateSet?,
                             progress: (String) -> Void = { _ in }) throws(ToolError) -> [OutputFile] {
        let wanted = Set(formats)
        var files: [OutputFile] = []

        // Figures: each scene rendered once per format; the SVG also goes inline into the HTML.
        var figureFormats: [OutputFormat] = []
        if wanted.contains(.svg) || wanted.contains(.html) { figureFormats.append(.svg) }
        if wanted.contains(.pdf) { figureFormats.append(.pdf) }
        if wanted.contains(.png) { figureFormats.append(.png) }
        progress("drawing \(document.figures.count) figures")
        let rendered = try FigureRendering.render(document.figures, formats: figureFormats)
        var svg: [String: Data] = [:]
        var links: [String: [String]] = [:]
        for (figure, byFormat) in zip(document.figures, rendered) {
            for (format, bytes) in byFormat {
                if format == .svg { svg[figure.name] = bytes }
                let standalone = format == .svg ? wanted.contains(.svg) : true
                guard standalone else { continue }
                let path = "figures/\(figure.name).\(format.fileExtension)"
                files.append(OutputFile(path, bytes))
                links[figure.name, default: []].append(path)
            }
        }

        // Tables: LaTeX and CSV from the same rows.
        for table in document.tables {
            if wanted.contains(.tex) {
                let path = "tables/\(table.name).tex"
                files.append(OutputFile(path, text: LaTeXTable.text(table.data)))
                links[table.name, default: []].append(path)
            }
            if wanted.contains(.csv) {
                let path = "tables/\(table.name).csv"
                files.append(OutputFile(path, text: csv(table, document: document, analysis: analysis, findings: findings)))
                links[table.name, default: []].append(path)
            }
        }

        if wanted.contains(.json) {
            files.append(OutputFile("metrics.json", text: JSONWriter.string(metricsJSON(document, analysis: analysis, findings: findings))))
        }
        if wanted.contains(.html), let templates {
            progress("writing report.html")
            files.append(OutputFile("report.html", text: try HTMLReport.render(document, templates: templates, svg: svg, files: links)))
        }
        if wanted.contains(.pdf) {
            progress("writing report.pdf")
            files.append(OutputFile("report.pdf", try PDFReport.render(document)))
        }
        return files
    }

    /// Distance matrices and the correlation table at full precision; other tables as displayed.
    static func csv(_ table: ReportTable, document: ReportDocument, analysis: StudyAnalysis, findings: StudyFindings) -> String {
        if table.name == "correlations" {
            let metrics = DistanceMetric.allCases.filter { table.data.columnHeaders.contains($0.rawValue) }
            return TableCSV.correlations(findings, tasks: analysis.tasks, modules: table.data.rows.map(\.header), metrics: metrics)
        }
        for metric in DistanceMetric.allCases {
            for module in analysis.modules where table.name == "distances-\(metric.rawValue)-\(OutputNaming.component(module))" {
                if let layered = analysis.distances[metric]?[module] { return MatrixCSV.text(tasks: analysis.tasks, matrix: layered.mean) }
            }
        }
        return TableCSV.text(table.data)
    }

    /// metrics.json with the report's provenance added.
    static func metricsJSON(_ document: ReportDocument, analysis: StudyAnalysis, findings: StudyFindings) -> JSONValue {
        let json = MetricsDocument.json(analysis, findings: findings, tool: ToolInfo())
        guard var pairs = json.objectPairs else { return json }
        let provenance = document.provenance
        pairs.append(("provenance", .object([
            ("command_line", .string(provenance.commandLine)),
            ("date", .string(provenance.date)),
            ("inputs", .array(provenance.inputs.map { input in
                .object([("role", .string(input.role)), ("path", .string(input.path)), ("bytes", .int(input.bytes)), ("sha256", .string(input.sha256))])
            })),
        ])))
        return .object(pairs)
    }
}

/// Renders figures in several formats, spread over the cores (each render has its own Cairo
/// surface; text measurement is shared and thread-safe).
enum FigureRendering {
    static func render(_ figures: [ReportFigure], formats: [OutputFormat]) throws(ToolError) -> [[(OutputFormat, Data)]] {
        let jobs = figures.indices.flatMap { f in formats.indices.map { (f, $0) } }
        let results = ResultBox(count: jobs.count)
        DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
            let (f, k) = jobs[index]
            let figure = figures[f]
            do {
                let id = figure.name.replacingOccurrences(of: ".", with: "_")
                results.set(index, .success(try CairoRenderer().render(figure.scene, format: formats[k], figureID: id)))
            } catch {
                results.set(index, .failure(ToolError.internalError("rendering \(figure.name).\(formats[k].fileExtension): \(error)")))
            }
        }
        var out = figures.map { _ in [(OutputFormat, Data)]() }
        for (index, job) in jobs.enumerated() {
            switch results.get(index) {
            case .success(let data): out[job.0].append((formats[job.1], data))
            case .failure(let error): throw error
            case nil: throw .internalError("figure \(figures[job.0].name) was not rendered")
            }
        }
        return out
    }

    final class ResultBox: @unchecked Sendable {
        private var values: [Result<Data, ToolError>?]
        private let lock = NSLock()
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: Result<Data, ToolError>) { lock.lock(); values[index] = value; lock.unlock() }
        func get(_ index: Int) -> Result<Data, ToolError>? { lock.lock(); defer { lock.unlock() }; return values[index] }
    }
}
