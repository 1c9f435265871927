import AnalysisCore
import ArgumentParser
import Charts
import Diagnostics
import Foundation
import Reporting
import Study

extension StudyOptions {
    /// These options as a report request, to merge with a study file's.
    func request() -> ReportRequest {
        var request = ReportRequest()
        request.adapters = adapters
        request.name = name
        request.out = out
        request.scores = scores
        request.modules = modules.map(commaSeparated)
        request.base = base
        request.subspaceRank = subspaceRank
        request.lora = lora
        request.loraScores = loraScores
        request.intruderK = intruderK
        request.intruderEpsilon = intruderEpsilon
        request.ridgeLambda = ridgeLambda
        return request
    }
}

struct Report: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the full report of a study: one self-contained HTML page, an A4 PDF, figures, LaTeX and CSV tables, metrics.json.",
        discussion: """
        tvgeo report ADAPTER... [--scores FILE] writes into output/<name>/ (or --out DIR): report.html, report.pdf, \
        metrics.json, figures/<kind>-<metric>-<module>.svg|pdf|png and tables/<name>.tex|csv. \
        tvgeo report --config study.json reads the same options from a JSON file (snake_case keys: adapters, scores, \
        name, out, base, subspace_rank, formats, metrics, modules, templates, title, figure_width, style, labels; paths \
        relative to the file); options given on the command line win. --style FILE.json sets the figures' font, titles, \
        colour maps and range, annotations, PNG resolution and width (docs/report.md lists the keys); --label TASK=LABEL \
        (repeatable) shows TASK as LABEL in figures and tables.
        The report is written into a temporary folder beside DIR and moved into place when complete. A non-empty \
        DIR that tvgeo did not write is refused unless --force, and then only tvgeo's own file names in it are replaced.
        Exit codes: 0 success, 64 usage error, 65 invalid input data, 66 input missing or unreadable, \
        70 internal error, 73 output cannot be written.
        """
    )

    @OptionGroup var study: StudyOptions

    @Option(help: ArgumentHelp("A study file (JSON) with the same options; command-line options win.", valueName: "study.json"))
    var config: String?

    @Option(help: ArgumentHelp("What to write, comma-separated: html, pdf, tex, svg, png, json, csv (default: all).", valueName: "formats"))
    var formats: String?

    @Option(help: ArgumentHelp("Metrics shown, comma-separated: \(DistanceMetric.idList) (default: all).", valueName: "names"))
    var metrics: String?

    @Option(help: ArgumentHelp("A folder of Mustache templates replacing the defaults of the same name "
                               + "(report, section, block, figure, table .mustache; style.css).", valueName: "dir"))
    var templates: String?

    @Option(help: "The report's title (default: \"Task-vector geometry of <name>\").")
    var title: String?

    @Option(help: ArgumentHelp("Figure width: single (240 pt), double (500 pt, default) or points.", valueName: "width"))
    var figureWidth: String?

    @Option(help: ArgumentHelp("A figure style (JSON: font, titles, colour_map, colour_range, annotations, number_format, png_dpi, "
                               + "width), read over the study file's style.", valueName: "style.json"))
    var style: String?

    @Option(name: .customLong("label"), help: ArgumentHelp("Show a task under another name in figures and tables (repeatable).",
                                                           valueName: "task=label"))
    var labels: [String] = []

    @Option(help: ArgumentHelp("Nearest neighbours per task in tables/neighbours-<metric>-<module>.csv (default: 5).", valueName: "k"))
    var neighbours: Int?

    @Flag(help: forceHelp)
    var force = false

    @Flag(name: .shortAndLong, help: "Print only warnings and errors.")
    var quiet = false

    func execute() throws(ToolError) {
        let started = Date()
        // Validate everything before reading a tensor.
        var commandLine = study.request()
        commandLine.formats = formats.map(commaSeparated)
        commandLine.metrics = metrics.map(commaSeparated)
        commandLine.templates = templates
        commandLine.title = title
        commandLine.figureWidth = figureWidth
        commandLine.styleFile = style
        commandLine.labels = try labels.map { argument throws(ToolError) in try ReportRequest.TaskLabel.parse(argument) }
        let request = try config.map { path throws(ToolError) in try ReportRequest.readConfig(path) }?.overridden(by: commandLine) ?? commandLine
        let input = try request.studyInput()
        let formats = try request.formats.map { list throws(ToolError) in try ReportFormat.parseList(list) } ?? ReportFormat.allCases
        var figureStyle = try request.figureStyle()
        let displayNames = try request.displayNames(tasks: input.arguments.map(\.task))
        var settings = ReportSettings(title: request.title, metrics: try ReportRequest.parseMetrics(request.metrics),
                                      modules: nil, figureWidth: figureStyle.width ?? FigureWidth.doubleColumn)
        settings.citesMetricsFile = formats.contains(.json)
        settings.displayNames = request.labels.isEmpty ? nil : displayNames
        if let neighbours {
            guard neighbours >= 1 else { throw .usage("--neighbours must be at least 1 (got \(neighbours))") }
            settings.neighbourCount = neighbours
        }
        let templateSet = formats.contains(.html) ? try ReportTemplateSet.load(override: request.templates) : nil
        for warning in templateSet?.warnings ?? [] { printError("tvgeo: warning: \(warning.text)") }
        try OutputFolder.checkTarget(input.folder, force: force)
        // Every report lays out text with Pango, whatever its formats.
        try requireGraphicsLibraries()
        let font = FigureStyleFile.resolvingFont(figureStyle)
        figureStyle = font.style
        if let warning = font.warning { printError("tvgeo: warning: \(warning.text)") }
        settings.style = figureStyle

        if input.lora != nil {
            // Display names are per study; a study of both kinds has two task lists.
            if !request.labels.isEmpty { throw .usage("--label (or a study file's labels) does not apply to a study of both kinds (--lora) yet") }
            try writeComparison(input, settings: settings, formats: formats, templates: templateSet, started: started)
            return
        }
        let (analysis, findings) = try StudyRun.run(input, quiet: quiet)
        let step = StepLine(enabled: !quiet)
        let provenance = try Provenance.record(analysis: analysis, scores: input.scores, config: config, base: input.base)
        let document = ReportBuilder.build(name: input.name, analysis: analysis, findings: findings, settings: settings, provenance: provenance)
        let files = try ReportFiles.files(document, analysis: analysis, findings: findings, formats: formats,
                                          templates: templateSet, progress: step.show)
        step.finish()
        try OutputFolder.write(files, to: input.folder, force: force)
        if !quiet {
            // The columns --metrics chose; the rows are the analysed modules (--modules filters the analysis).
            if let table = AnalysisSummary.correlationTable(analysis, findings: findings, metrics: settings.metrics) {
                printOutput(String(table.drop { $0 == "\n" }))
            }
            for line in document.summary { printOutput("• " + line) }
            let seconds = Date().timeIntervalSince(started)
            let figureCount = files.filter { $0.path.hasPrefix("figures/") }.count
            let tableCount = files.filter { $0.path.hasPrefix("tables/") }.count
            printOutput("wrote \(input.folder)/: \(formats.contains(.html) ? "report.html, " : "")\(formats.contains(.pdf) ? "report.pdf, " : "")"
                  + "\(figureCount) figure files, \(tableCount) table files in \(String(format: "%.2f", seconds)) s")
            if formats.contains(.html) { printOutput("open \(input.folder)/report.html") }
        }
    }
}

extension Report {
    /// The report of a study of both kinds (`--lora` beside `--base`).
    func writeComparison(_ input: StudyInput, settings: ReportSettings, formats: [ReportFormat], templates: ReportTemplateSet?,
                         started: Date) throws(ToolError) {
        let comparison = try StudyRun.runComparison(input, quiet: quiet)
        let step = StepLine(enabled: !quiet)
        // One provenance: the base and checkpoints with the f-FT scores, then the adapters with theirs.
        let fftRecord = try Provenance.record(analysis: comparison.fft, scores: input.scores, config: config, base: input.base)
        let loraRecord = try Provenance.record(analysis: comparison.lora, scores: input.loraScores, config: nil)
        var provenance = fftRecord
        provenance.inputs = fftRecord.inputs.map { input in
            var input = input
            if input.role != "study config" && input.role != "base checkpoint" { input.role = "f-FT " + input.role }
            return input
        }
        for var input in loraRecord.inputs where !provenance.inputs.contains(where: { $0.path == input.path }) {
            input.role = "LoRA " + input.role
            provenance.inputs.append(input)
        }
        let document = KindComparisonReport.build(name: input.name, comparison: comparison, settings: settings, provenance: provenance)
        var files = try ReportFiles.files(document, analysis: comparison.fft, findings: comparison.fftFindings, formats: formats,
                                          templates: templates, metricsDocument: KindComparisonDocument.json(comparison, tool: ToolInfo()),
                                          progress: step.show)
        step.finish()
        if formats.contains(.csv) {
            // The cross-kind matrices and the long per-layer table beside the report's tables.
            files += KindComparisonFiles.files(for: comparison).filter { $0.path.hasPrefix("crosskind-") }.map {
                OutputFile("tables/" + $0.path, $0.contents)
            }
        }
        try OutputFolder.write(files, to: input.folder, force: force)
        if !quiet {
            for line in document.summary { printOutput("• " + line) }
            let figureCount = files.filter { $0.path.hasPrefix("figures/") }.count
            let tableCount = files.filter { $0.path.hasPrefix("tables/") }.count
            printOutput("wrote \(input.folder)/: \(formats.contains(.html) ? "report.html, " : "")\(formats.contains(.pdf) ? "report.pdf, " : "")"
                        + "\(figureCount) figure files, \(tableCount) table files in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
            if formats.contains(.html) { printOutput("open \(input.folder)/report.html") }
        }
    }
}

/// One status line on stderr for the report's steps, only on a terminal.
final class StepLine: @unchecked Sendable {
    private let enabled: Bool
    private var shown = false
    init(enabled: Bool) { self.enabled = enabled && isatty(2) != 0 }
    func show(_ text: String) {
        guard enabled else { return }
        shown = true
        FileHandle.standardError.write(Data("\r\u{1B}[K  \(text)…".utf8))
    }
    func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
