import AnalysisCore
import ArgumentParser
import Diagnostics
import Foundation
import Charts
import Study
import Reporting
import StudyFigures

/// The command-line front end. All failures become a `ToolError` and leave through `exit(with:)`,
/// the one place that prints the message and picks the exit code.
@main
struct TVGeo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tvgeo",
        abstract: "Task-vector geometry of LoRA adapters: distances, maps and merge-loss correlations.",
        version: ToolInfo.version,
        subcommands: [Report.self, Analyze.self, Combine.self, Merge.self, Convert.self, Export.self]
    )

    /// Process set-up before parsing. Subcommand names are spelt out in their configurations
    /// because ArgumentParser would otherwise derive each from its type name at run time
    /// (demangling, about a millisecond of every start).
    static func main() {
        BLASKernels.useTheCPUsKernels()
        ProcessMemory.keepFreedMemory()
        // BLAS runs on tvgeo's own threads; stop OpenBLAS's pool before it spins through parsing.
        BLASThreads.useSingleThread()
        checkSubcommand(Array(CommandLine.arguments.dropFirst()))
        main(nil)
        // Every output is written, synced and closed here: leave without running the libraries'
        // exit handlers and freeing what the kernel takes back anyway (a few ms of a short run).
        fflush(nil)
        _exit(0)
    }
}

extension TVGeo {
    /// Bare `tvgeo` prints the help and exits 64 (a usage error: nothing was asked); an unknown
    /// first word is an unknown subcommand, with the closest name suggested.
    static func checkSubcommand(_ arguments: [String]) {
        let names = configuration.subcommands.map { $0.configuration.commandName ?? "" } + ["help"]
        guard let first = arguments.first else {
            FileHandle.standardError.write(Data((helpMessage() + "\n").utf8))
            Foundation.exit(64)
        }
        guard !first.hasPrefix("-"), !names.contains(first) else { return }
        exitWithError(.usage("unknown subcommand \(Wording.quoted(first))\(Wording.didYouMean(first, among: names)) "
                             + "(subcommands: \(names.dropLast().joined(separator: ", ")); see tvgeo --help)"))
    }
}

struct Analyze: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Compute the distances (\(DistanceMetric.idList)) between LoRA adapters, per module and layer.",
        discussion: """
        Each ADAPTER is a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) or a \
        .safetensors file of LoRA tensors (scaling 1); with --base, each is a fully fine-tuned checkpoint. \
        Its task name is the folder name or file stem; \
        write name=path to choose it. Writes DIR/metrics.json and DIR/distances-<metric>-<module>.csv.
        Exit codes: 0 success, 64 usage error, 65 invalid input data, 66 input missing or unreadable, \
        70 internal error, 73 output cannot be written.
        """
    )

    @OptionGroup var study: StudyOptions

    @Option(help: ArgumentHelp("Also draw a heatmap of each metric and module into DIR/figures/, "
                               + "in these formats (comma-separated: svg, pdf, png).", valueName: "formats"))
    var figures: String?

    @Option(help: ArgumentHelp("A figure style (JSON: font, titles, colour_map, colour_range, annotations, number_format, png_dpi, "
                               + "width) for --figures.", valueName: "style.json"))
    var style: String?

    @Option(help: ArgumentHelp("Compute only part K of N of the study and write it as a part folder for tvgeo combine "
                               + "(LoRA only; see docs/distributed.md).", valueName: "K/N"))
    var part: String?

    @Flag(help: forceHelp)
    var force = false

    @Flag(name: .shortAndLong, help: "Print only warnings and errors.")
    var quiet = false

    func execute() throws(ToolError) {
        if let part {
            let selector = try PartSelector(parsing: part)
            if style != nil { throw .usage("--style applies to figures, which --part does not draw") }
            if study.highlight != nil { throw .usage("--highlight applies to figures, which --part does not draw") }
            return try PartRun.run(selector, study: study, figures: figures, force: force, quiet: quiet)
        }
        var figureStyle = try style.map { path throws(ToolError) in try FigureStyleFile.read(path) } ?? .default
        // PNGs at the style's resolution.
        let figureFormats = try parseFormats(figures).map { $0.fileExtension == "png" ? figureStyle.png : $0 }
        if style != nil && figureFormats.isEmpty { throw .usage("--style applies to figures: add --figures svg,pdf,png") }
        if study.highlight != nil && figureFormats.isEmpty { throw .usage("--highlight applies to figures: add --figures svg,pdf,png") }
        let highlightNames = study.highlight.map(commaSeparated) ?? []
        let started = Date()
        let input = try study.input()
        let folder = input.folder
        // Unknown names fail before any tensor is read.
        _ = try ReportRequest.highlightedTasks(highlightNames, tasks: input.arguments.map(\.task), file: nil)
        try OutputFolder.checkTarget(folder, force: force)
        if !figureFormats.isEmpty {
            try requireGraphicsLibraries()
            let font = FigureStyleFile.resolvingFont(figureStyle)
            figureStyle = font.style
            if let warning = font.warning { printError("tvgeo: warning: \(warning.text)") }
        }
        if input.lora != nil {
            let comparison = try StudyRun.runComparison(input, quiet: quiet)
            var files = KindComparisonFiles.files(for: comparison)
            if !figureFormats.isEmpty {
                for (folder, analysis, findings) in [("fft", comparison.fft, comparison.fftFindings),
                                                     ("lora", comparison.lora, comparison.loraFindings)] {
                    let chosen = try ReportRequest.highlightedTasks(highlightNames, tasks: analysis.tasks, file: nil)
                    files += try AnalysisFigures.figures(for: analysis, findings: findings, formats: figureFormats,
                                                         width: figureStyle.width ?? FigureWidth.doubleColumn, style: figureStyle,
                                                         highlighted: chosen).map {
                        OutputFile("\(folder)/\($0.path)", $0.contents)
                    }
                }
            }
            try OutputFolder.write(files, to: folder, force: force)
            if !quiet {
                printOutput(KindComparisonSummary.text(comparison))
                printOutput("wrote \(folder)/metrics.json and \(files.filter { $0.path.hasSuffix(".csv") }.count) CSV tables "
                            + "in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
            }
            return
        }
        let (analysis, findings) = try StudyRun.run(input, quiet: quiet)
        var files = AnalysisFiles.files(for: analysis, findings: findings)
        if !figureFormats.isEmpty {
            files += try AnalysisFigures.figures(for: analysis, findings: findings, formats: figureFormats,
                                                 width: figureStyle.width ?? FigureWidth.doubleColumn, style: figureStyle,
                                                 highlighted: try ReportRequest.highlightedTasks(highlightNames, tasks: analysis.tasks, file: nil))
        }
        try OutputFolder.write(files, to: folder, force: force)
        if !quiet {
            printOutput(AnalysisSummary.text(analysis))
            if let table = AnalysisSummary.correlationTable(analysis, findings: findings) { printOutput(table) }
            let seconds = Date().timeIntervalSince(started)
            let figureCount = files.filter { $0.path.hasPrefix("figures/") }.count
            let tableCount = files.filter { $0.path.hasSuffix(".csv") }.count
            printOutput("wrote \(folder)/metrics.json, \(tableCount) CSV tables\(figureCount > 0 ? " and \(figureCount) figures" : "") "
                  + "in \(String(format: "%.2f", seconds)) s")
        }
    }
}

/// Cairo and Pango load on first use; a command that will draw checks them before any work.
func requireGraphicsLibraries() throws(ToolError) {
    if let problem = GraphicsLibraries.loadError() { throw .internalError(problem) }
}

/// "svg,png" → formats; an unknown name is a usage error.
func parseFormats(_ text: String?) throws(ToolError) -> [OutputFormat] {
    guard let text else { return [] }
    var formats: [OutputFormat] = []
    for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
        guard let format = OutputFormat(fileExtension: name) else {
            throw .usage("unknown figure format \"\(name)\" (use svg, pdf, png)")
        }
        if !formats.contains(format) { formats.append(format) }
    }
    return formats
}

/// A subcommand whose work throws `ToolError`; `run()` turns every error into its message and
/// exit code here, in one place.
protocol ToolCommand: ParsableCommand {
    func execute() throws(ToolError)
}

extension ToolCommand {
    func run() throws {
        do throws(ToolError) {
            try execute()
        } catch {
            exitWithError(error)
        }
    }
}

/// Prints a line of results on stdout: names in it come from the inputs, so their control
/// characters are written as escapes (`Wording.terminalText`).
func printOutput(_ text: String) {
    print(Wording.terminalText(text))
}

/// Prints a line on stderr, control characters written as escapes as on stdout.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((Wording.terminalText(text) + "\n").utf8))
}

func exitWithError(_ error: ToolError) -> Never {
    printError("tvgeo: error: \(error.message)")
    exit(error.exitCode)
}

/// A one-line progress display on stderr, only when stderr is a terminal.
final class ProgressLine: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var shown = false
    private let start = Date()

    init(enabled: Bool) {
        self.enabled = enabled && isatty(2) != 0
    }

    var update: @Sendable (Int, Int) -> Void {
        { [self] done, total in
            guard enabled else { return }
            lock.lock(); defer { lock.unlock() }
            let elapsed = Date().timeIntervalSince(start)
            guard elapsed > 1 else { return }
            shown = true
            let remaining = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
            let width = 24
            let filled = total > 0 ? width * done / total : 0
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            FileHandle.standardError.write(Data(String(format: "\r  %@ %d/%d blocks  %.0f s, ETA %.0f s ",
                                                       bar, done, total, elapsed, remaining).utf8))
        }
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
