import AnalysisCore
import ArgumentParser
import Charts
import Diagnostics
import Foundation
import Reporting
import Study

struct Combine: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "combine",
        abstract: "Combine the part folders of a split study (tvgeo analyze --part K/N) into what tvgeo analyze writes.",
        discussion: """
        Each PARTDIR is a folder written by tvgeo analyze ADAPTER... --part K/N --out PARTDIR; give all N of one study, \
        in any order. The parts must list the same input files with the same sizes and SHA-256 digests, the same \
        modules and plan, and the same tvgeo version. Writes DIR/metrics.json and DIR/distances-<metric>-<module>.csv \
        byte-identical to a one-machine tvgeo analyze of the same adapters; with --report, what tvgeo report writes instead.
        Exit codes: 0 success, 64 usage error, 65 parts missing, given twice, of different studies or damaged, \
        66 a part folder missing or unreadable, 70 internal error, 73 output cannot be written.
        """
    )

    @Argument(help: "The part folders written by tvgeo analyze --part K/N.")
    var parts: [String] = []

    @Option(help: "Output folder.")
    var out: String

    @Option(help: ArgumentHelp("Evaluation scores (CSV with model,task,score[,metric]): adds merge losses δ(i,j) "
                               + "and their correlations with each distance.", valueName: "file.csv"))
    var scores: String?

    @Flag(help: "Write the full report (HTML, PDF, figures, tables, metrics.json) as tvgeo report does.")
    var report = false

    @Option(help: "Study name for the report (default: the adapters' common parent folder).")
    var name: String?

    @Flag(help: forceHelp)
    var force = false

    @Flag(name: .shortAndLong, help: "Print only warnings and errors.")
    var quiet = false

    func execute() throws(ToolError) {
        let started = Date()
        guard !parts.isEmpty else { throw .usage("give the part folders written by tvgeo analyze --part K/N") }
        if name != nil, !report { throw .usage("--name names the report; it applies with --report") }
        try OutputFolder.checkTarget(out, force: force)
        if report { try requireGraphicsLibraries() }
        let analysis = try StudyCombine.combine(parts)
        let scoreTable = try scores.map { path throws(ToolError) in try ScoreTable.read(path, tasks: analysis.tasks) }
        let findings = try StudyFindings.compute(analysis, scores: scoreTable)
        for warning in analysis.warnings + findings.warnings { printError("tvgeo: warning: \(warning.text)") }
        let files: [OutputFile]
        if report {
            let studyName = name ?? AdapterArgument.defaultStudyName(analysis.adapters.map { AdapterArgument(task: $0.task, path: $0.path) })
            // The default figure style with its font resolved, as tvgeo report without --style.
            let font = FigureStyleFile.resolvingFont(.default)
            if let warning = font.warning { printError("tvgeo: warning: \(warning.text)") }
            var settings = ReportSettings(title: nil, metrics: DistanceMetric.allCases, modules: nil,
                                          figureWidth: font.style.width ?? FigureWidth.doubleColumn)
            settings.style = font.style
            let provenance = try Provenance.record(analysis: analysis, scores: scores, config: nil)
            let document = ReportBuilder.build(name: studyName, analysis: analysis, findings: findings, settings: settings, provenance: provenance)
            files = try ReportFiles.files(document, analysis: analysis, findings: findings, formats: ReportFormat.allCases,
                                          templates: try ReportTemplateSet.load(override: nil), progress: { _ in })
        } else {
            files = AnalysisFiles.files(for: analysis, findings: findings)
        }
        try OutputFolder.write(files, to: out, force: force)
        if !quiet {
            printOutput("combined \(parts.count) parts of \(analysis.tasks.count) adapters into \(out)/ "
                        + "(\(files.count) files) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
        }
    }
}
