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
                             formats: [ReportFormat], templates: ReportTemplateSet?, metricsDocument: MetricsDocumentFiles? = nil,
                             progress: (String) -> Void = { _ in }) throws(ToolError) -> [OutputFile] {
        let wanted = Set(formats)
        var files: [OutputFile] = []

        // Figures: each scene rendered once per format; the SVG also goes inline into the HTML.
        var figureFormats: [OutputFormat] = []
        if wanted.contains(.svg) || wanted.contains(.html) { figureFormats.append(.svg) }
        if wanted.contains(.pdf) { figureFormats.append(.pdf) }
        if wanted.contains(.png) { figureFormats.append(document.style.png) }
        progress("drawing \(document.figures.count) figures\(wanted.contains(.pdf) ? " and report.pdf" : "")")
        // Every figure file and the PDF report are independent: they are drawn on all cores at
        // once, the PDF (the longest job) first.
        var jobs: [@Sendable () -> Result<Data, ToolError>] = []
        if wanted.contains(.pdf) { jobs.append { Result { () throws(ToolError) in try PDFReport.render(document) } } }
        let figureJobs = document.figures.indices.flatMap { f in figureFormats.map { (f, $0) } }
        for (f, format) in figureJobs {
            let figure = document.figures[f]
            jobs.append {
                do {
                    return .success(try CairoRenderer().render(figure.scene, format: format,
                                                               figureID: figure.name.replacingOccurrences(of: ".", with: "_")))
                } catch {
                    return .failure(.internalError("rendering \(figure.name).\(format.fileExtension): \(error)"))
                }
            }
        }
        var results = try ConcurrentJobs.run(jobs)
        let pdf = wanted.contains(.pdf) ? results.removeFirst() : nil
        var rendered = document.figures.map { _ in [(OutputFormat, Data)]() }
        for ((f, format), bytes) in zip(figureJobs, results) { rendered[f].append((format, bytes)) }
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
                files.append(OutputFile(path, text: LaTeXTable.text(table.data, mathHeaders: table.latexHeaders)))
                links[table.name, default: []].append(path)
            }
            if wanted.contains(.csv) {
                let path = "tables/\(table.name).csv"
                files.append(OutputFile(path, text: table.csv ?? TableCSV.text(table.data)))
                links[table.name, default: []].append(path)
            }
        }

        if wanted.contains(.json) {
            // metrics.json and the sidecar(s) with the per-layer matrices it indexes.
            let given = metricsDocument ?? {
                let sidecar = LayersSidecar.make(for: analysis)
                return MetricsDocumentFiles(json: MetricsDocument.json(analysis, findings: findings, tool: ToolInfo(), layers: sidecar.record),
                                            sidecars: [sidecar.file])
            }()
            files.append(OutputFile("metrics.json", text: JSONWriter.stringInParallel(metricsJSON(document, json: given.json))))
            files += given.sidecars
        }
        if wanted.contains(.html), let templates {
            progress("writing report.html")
            files.append(OutputFile("report.html", text: try HTMLReport.render(document, templates: templates, svg: svg, files: links,
                                                                                beside: [(ReportFormat.pdf, "report.pdf"), (.json, "metrics.json")]
                                                                                    .filter { wanted.contains($0.0) }.map(\.1))))
        }
        if let pdf { files.append(OutputFile("report.pdf", pdf)) }
        return files
    }

    /// metrics.json with the report's provenance added.
    static func metricsJSON(_ document: ReportDocument, json: JSONValue) -> JSONValue {
        guard var pairs = json.objectPairs else { return json }
        let provenance = document.provenance
        pairs.append(("provenance", .object([
            ("command_line", .string(provenance.commandLine)),
            ("date", .string(provenance.date)),
            ("inputs", .array(provenance.inputs.map { input in
                .object([("role", .string(input.role)), ("path", .string(input.path)), ("bytes", .int(input.bytes)),
                         ("sha256", .string(input.sha256))])
            })),
        ])))
        return .object(pairs)
    }
}

/// A metrics document and the sidecar files it records (`layers.safetensors`), for a report whose
/// `metrics.json` is not the analysis's own (a study of both kinds).
public struct MetricsDocumentFiles: Sendable {
    public var json: JSONValue
    public var sidecars: [OutputFile]

    public init(json: JSONValue, sidecars: [OutputFile]) {
        self.json = json
        self.sidecars = sidecars
    }
}

/// Runs independent jobs on every core and returns their results in order; the first error
/// (in job order) is thrown.
enum ConcurrentJobs {
    static func run<Value: Sendable>(_ jobs: [@Sendable () -> Result<Value, ToolError>]) throws(ToolError) -> [Value] {
        try ConcurrentWork.map(count: jobs.count, onFailure: .runAllThenFirstInOrder) { index throws(ToolError) in
            try jobs[index]().get()
        }
    }
}
