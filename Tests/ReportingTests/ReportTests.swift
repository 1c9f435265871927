import AnalysisCore
import Charts
import Diagnostics
import Foundation
import JSONText
@testable import Reporting
import Study
import TVGeoTestSupport
import XCTest

/// The example study (8 MiniLM adapters and their scores), analysed once for every test.
enum ExampleStudy {
    static let adapters = repositoryRoot + "/examples/minilm-glue8/adapters"
    static let tasks = ["cola", "mrpc", "rte", "sst2", "emotion", "hate", "irony", "offensive"]
    static let scores = repositoryRoot + "/examples/minilm-glue8/scores.csv"

    static let result: (StudyAnalysis, StudyFindings) = {
        let input = try! {
            var request = ReportRequest()
            request.adapters = tasks.map { adapters + "/" + $0 }
            request.scores = scores
            return request
        }().studyInput()
        return try! input.run { _, _ in }
    }()

    static let provenance = Provenance(toolVersion: "test", commandLine: "tvgeo report …", date: "2026-01-01T00:00:00Z", inputs: [])

    static func document(settings: ReportSettings = ReportSettings(), analysis: StudyAnalysis? = nil,
                         findings: StudyFindings? = nil) -> ReportDocument {
        ReportBuilder.build(name: "minilm-glue8", analysis: analysis ?? result.0, findings: findings ?? result.1,
                            settings: settings, provenance: provenance)
    }

    /// The example with hostile task names: every writer must show them as text.
    static let hostileNames = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "\\input{/etc/passwd}", "../../x",
                               "=HYPERLINK(\"x\")", "a&b", "tab\there", "'single'"]

    static func renamed(_ names: [String]) -> (StudyAnalysis, StudyFindings) {
        var (analysis, findings) = result
        analysis.tasks = names
        for index in analysis.adapters.indices { analysis.adapters[index].task = names[index] }
        return (analysis, findings)
    }
}

final class ReportDocumentTests: XCTestCase {
    func testSectionsFiguresAndTablesOfTheExample() {
        let document = ExampleStudy.document()
        XCTAssertEqual(document.sections.map(\.id), ["summary", "inputs", "metric-l2", "metric-cosine", "metric-grassmann",
                                                     "metric-grassmann_b", "metric-grassmann_a", "metric-comb_shift", "metric-comb_error",
                                                     "clusters", "hierarchy", "merge-loss", "prediction", "methods", "provenance"])
        let names = document.figures.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "figure names are unique")
        for kind in ["heatmap", "pca", "mds", "profile", "delta"] {
            for metric in DistanceMetric.allCases {
                for module in ["query", "value"] {
                    XCTAssertTrue(names.contains("\(kind)-\(metric.rawValue)-\(module)"), "\(kind)-\(metric.rawValue)-\(module)")
                }
            }
        }
        XCTAssertTrue(names.contains("heatmap-delta"))
        XCTAssertTrue(names.contains("hierarchy-grassmann-cosine-query"))
        XCTAssertTrue(names.contains("hierarchy-cosine-l2-value"))
        XCTAssertTrue(names.contains("layers-query") && names.contains("layers-value"), "the per-layer heat strips")
        XCTAssertEqual(names.count, 5 * DistanceMetric.allCases.count * 2 + 1 + 4 + 2)
        XCTAssertNotNil(document.table(named: "prediction"))
        XCTAssertNotNil(document.table(named: "merge-predictions")?.csv)
        // Every block refers to a figure or table that exists.
        for section in document.sections {
            for block in section.blocks {
                switch block {
                case .figures(let list): list.forEach { XCTAssertNotNil(document.figure(named: $0), $0) }
                case .table(let name): XCTAssertNotNil(document.table(named: name), name)
                default: break
                }
            }
        }
        let tables = document.tables.map(\.name)
        XCTAssertTrue(tables.contains("correlations"))
        XCTAssertTrue(tables.contains("distances-grassmann_a-value"))
        XCTAssertTrue(tables.contains("neighbours-comb_error-value") && tables.contains("clusters-cosine-query") && tables.contains("clusters"))
    }

    /// The summaries: one adapter row for the example's one configuration (every adapter in the CSV),
    /// a cluster row per module and metric agreeing with the findings, per-task cluster and neighbour files.
    func testSummaryTablesOfTheExample() throws {
        let document = ExampleStudy.document()
        let adapters = try XCTUnwrap(document.table(named: "adapters"))
        XCTAssertEqual(adapters.data.rows.map(\.header), ["8 adapters"])
        XCTAssertEqual(adapters.data.rows[0].cells.map(\.text), ["lora", "query, value", "8", "16", "6", "sentence-transformers/all-MiniLM-L6-v2"])
        let csvLines = try XCTUnwrap(adapters.csv).split(separator: "\n")
        XCTAssertEqual(csvLines.count, 9)
        XCTAssertTrue(csvLines[1].hasPrefix("cola,lora,"))
        let findings = ExampleStudy.result.1
        let clusters = try XCTUnwrap(document.table(named: "clusters"))
        XCTAssertEqual(clusters.data.rows.count, 2 * DistanceMetric.allCases.count)
        let cosine = try XCTUnwrap(findings.clusters[.cosine]?["value"])
        let row = try XCTUnwrap(clusters.data.rows.first { $0.header == "value · cosine" })
        XCTAssertEqual(row.cells[0].text, "\(cosine.count)")
        XCTAssertEqual(try XCTUnwrap(row.cells[1].value), cosine.silhouette, accuracy: 1e-15)
        let members = try XCTUnwrap(document.table(named: "clusters-cosine-value")?.csv).split(separator: "\n")
        XCTAssertEqual(members.count, 9)
        XCTAssertEqual(members[0], "task,cluster,is_medoid,silhouette,cluster_size")
        XCTAssertEqual(members.filter { $0.contains(",yes,") }.count, cosine.count, "one medoid per cluster")
        let neighbours = try XCTUnwrap(document.table(named: "neighbours-cosine-value")?.csv).split(separator: "\n")
        XCTAssertEqual(neighbours.count, 9)
        XCTAssertEqual(neighbours[0].split(separator: ",").count, 1 + 2 * StudySummaries.defaultNeighbourCount)
        // Natural order of the rows: cola, emotion, hate, …
        XCTAssertTrue(neighbours[1].hasPrefix("cola,") && neighbours[2].hasPrefix("emotion,"))
        var settings = ReportSettings()
        settings.neighbourCount = 2
        let two = try XCTUnwrap(ExampleStudy.document(settings: settings).table(named: "neighbours-l2-query")?.csv)
        XCTAssertEqual(two.split(separator: "\n")[0], "task,neighbour_1,distance_1,neighbour_2,distance_2")
    }

    /// The poster's table: cosine is the best metric of both modules on the example (value 0.48).
    func testCorrelationTableAndHeadline() throws {
        let document = ExampleStudy.document()
        let table = try XCTUnwrap(document.table(named: "correlations")).data
        XCTAssertEqual(table.rows.map(\.header), ["query", "value"])
        XCTAssertEqual(table.columnHeaders, DistanceMetric.allCases.map(\.rawValue))
        let value = table.rows[1]
        XCTAssertEqual(value.cells[1].text, "0.48 (0.37)")
        XCTAssertEqual(value.cells.filter { $0.emphasis.contains(.bold) }.count, 1)
        XCTAssertTrue(value.cells[1].emphasis.contains(.bold))
        let spearman = try XCTUnwrap(ExampleStudy.result.1.correlations[.cosine]?["value"]?[.spearman]?.mean)
        XCTAssertEqual(try XCTUnwrap(value.cells[1].value), spearman, accuracy: 1e-12)
        XCTAssertTrue(document.summary[1].hasPrefix("value: cosine predicts the merge loss best, Spearman ρ 0.48 (0.37)"), document.summary[1])
        XCTAssertTrue(document.summary.contains { $0.hasPrefix("Grassmann on ΔW equals Grassmann on B") })
    }

    func testWithoutScoresThereIsNoMergeSection() {
        let (analysis, _) = ExampleStudy.result
        let findings = try! StudyFindings.compute(analysis, scores: nil)
        let document = ExampleStudy.document(analysis: analysis, findings: findings)
        XCTAssertFalse(document.sections.map(\.id).contains("merge-loss"))
        XCTAssertNil(document.table(named: "correlations"))
        XCTAssertTrue(document.summary[0].contains("No scores were given"))
        XCTAssertFalse(document.figures.contains { $0.name.hasPrefix("delta") || $0.name == "heatmap-delta" })
    }

    /// A metric of the study's kind that is undefined for every pair keeps its section, which says
    /// so (no empty figure); a metric of another kind (grassmann_b for full fine-tuning) has none.
    func testAMetricUndefinedEverywhereIsSaidNotDropped() {
        var (analysis, findings) = ExampleStudy.result
        for module in analysis.modules {
            let count = analysis.tasks.count
            var layered = analysis.distances[.grassmannB]![module]!
            layered.layers = layered.layers.map { _ in PairMatrix(count: count) }
            layered.mean = PairMatrix(count: count)
            analysis.distances[.grassmannB]![module] = layered
        }
        findings = try! StudyFindings.compute(analysis, scores: findings.scores)
        let document = ExampleStudy.document(analysis: analysis, findings: findings)
        let section = document.sections.first { $0.id == "metric-\(DistanceMetric.grassmannB.id)" }
        XCTAssertNotNil(section, "the section is kept")
        let paragraphs = section?.blocks.compactMap { block -> String? in
            if case .paragraph(let text) = block { return text }
            return nil
        } ?? []
        XCTAssertEqual(paragraphs.filter { $0.hasPrefix("Undefined for every pair of tasks in") }.count, analysis.modules.count)
        XCTAssertFalse(document.figures.contains { $0.name.hasPrefix("heatmap-\(DistanceMetric.grassmannB.id)-") })

        analysis.kind = .full
        let full = ExampleStudy.document(analysis: analysis, findings: findings)
        XCTAssertFalse(full.sections.contains { $0.id == "metric-\(DistanceMetric.grassmannB.id)" }, "does not apply to full fine-tuning")
    }

    /// Two copies of one adapter: the summary's closest pair is never the copy, and the map
    /// captions say who is left out and why.
    func testCopiesStayOutOfTheFindingsAndCaptionsSaySo() throws {
        let arguments = ["cola", "mrpc", "rte"].map { AdapterArgument(task: $0, path: ExampleStudy.adapters + "/" + $0) }
            + [AdapterArgument(task: "rte_copy", path: ExampleStudy.adapters + "/rte")]
        let analysis = try LoRAStudy.analyze(arguments)
        let findings = try StudyFindings.compute(analysis, scores: nil)
        let document = ExampleStudy.document(analysis: analysis, findings: findings)
        let closest = document.summary.filter { $0.contains("closest tasks") }
        XCTAssertFalse(closest.isEmpty)
        XCTAssertTrue(closest.allSatisfy { !$0.contains("rte_copy") }, "\(closest)")
        let pca = try XCTUnwrap(document.figures.first { $0.name == "pca-cosine-query" })
        XCTAssertTrue(pca.caption.contains("left out of the map: rte_copy (identical to rte)"), pca.caption)
        let heatmap = try XCTUnwrap(document.figures.first { $0.name == "heatmap-cosine-query" })
        XCTAssertTrue(heatmap.caption.contains("left out of the order, placed last: rte_copy (identical to rte)"), heatmap.caption)
    }

    /// Without metrics.json beside the report, no caption or table note points into it.
    func testWithoutMetricsFileNothingCitesIt() {
        var settings = ReportSettings()
        settings.citesMetricsFile = false
        let document = ExampleStudy.document(settings: settings)
        XCTAssertFalse(document.figures.isEmpty)
        for figure in document.figures {
            XCTAssertFalse(figure.caption.contains("metrics.json"), figure.caption)
            XCTAssertFalse(figure.caption.contains("  ") || figure.caption.contains(" ."), "spacing: \(figure.caption)")
        }
        for table in document.tables {
            XCTAssertFalse(table.notes.map { $0.contains("metrics.json") || $0.contains("layers.safetensors") } ?? false, table.notes ?? "")
        }
        XCTAssertFalse(document.figures.contains { $0.caption.contains("layers.safetensors") })
        // By default every caption cites where its numbers are: metrics.json, or its sidecar for matrices.
        let cited = ExampleStudy.document()
        XCTAssertTrue(cited.figures.allSatisfy { $0.caption.contains("(metrics.json → ") || $0.caption.contains("(layers.safetensors → ") },
                      "by default every caption cites it")
        XCTAssertTrue(cited.figures.contains { $0.caption.contains("(layers.safetensors → mean/cosine/query)") })
    }

    func testMetricsAndWidthSettings() {
        let document = ExampleStudy.document(settings: ReportSettings(title: "Mine", metrics: [.cosine, .grassmann],
                                                                      figureWidth: FigureWidth.singleColumn))
        XCTAssertEqual(document.title, "Mine")
        XCTAssertTrue(document.figures.allSatisfy { !$0.name.contains("-l2-") && !$0.name.contains("grassmann_") })
        XCTAssertTrue(document.figures.allSatisfy { $0.scene.size.width <= FigureWidth.singleColumn + 0.5 }, "every figure fits a single column")
        XCTAssertTrue(document.figures.contains { $0.name == "hierarchy-grassmann-cosine-query" })
        XCTAssertFalse(document.figures.contains { $0.name.hasPrefix("hierarchy-cosine-l2") }, "L2 is not shown")
    }
}

final class LaTeXTableTests: XCTestCase {
    func testBooktabsStructureAndBold() throws {
        let table = try XCTUnwrap(ExampleStudy.document().table(named: "correlations")).data
        let tex = LaTeXTable.text(table)
        let lines = tex.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("\\begin{tabular}{lrrrrrrr}"), tex)
        XCTAssertEqual(lines.filter { ["\\toprule", "\\midrule", "\\bottomrule"].contains($0) }.count, 3)
        XCTAssertTrue(tex.contains("value & 0.13 (0.28) & \\textbf{0.48 (0.37)} &"), tex)
        XCTAssertTrue(lines.contains("Module & l2 & cosine & grassmann & grassmann\\_b & grassmann\\_a & comb\\_shift & comb\\_error \\\\"), tex)
    }

    /// Metric columns and rows show the descriptors' symbols, not ids; negative numbers a minus.
    func testMetricHeadersAreSymbolsAndNegativeNumbersHaveAMinus() throws {
        let document = try ExampleStudy.document()
        let table = try XCTUnwrap(document.table(named: "correlations"))
        let tex = LaTeXTable.text(table.data, mathHeaders: table.latexHeaders)
        let symbols = #"$d_{\mathrm{L2}}$ & $d_{\cos}$ & $d_{G}$ & $d_{G,B}$ & $d_{G,A}$ & $\mathrm{shift}_C$ & $\mathrm{err}_C$"#
        XCTAssertTrue(tex.contains("Module & " + symbols + #" \\"#), tex)
        XCTAssertFalse(tex.contains("grassmann"), tex)
        let detail = try XCTUnwrap(document.table(named: "correlations-detail"))
        let detailTeX = LaTeXTable.text(detail.data, mathHeaders: detail.latexHeaders)
        XCTAssertTrue(detailTeX.contains(#"\ensuremath{\cdot} $d_{G,B}$ & "#), detailTeX)
        XCTAssertEqual(LaTeXTable.numericMinus("-0.22"), "$-$0.22")
        XCTAssertEqual(LaTeXTable.numericMinus("[-0.48, 0.05] -.5"), "[$-$0.48, 0.05] $-$.5")
        for kept in ["run-1", "---", "a -x", "1e-5", "--2"] { XCTAssertEqual(LaTeXTable.numericMinus(kept), kept) }
        // A header that only looks like an id stays text; the map comes from tvgeo, never the inputs.
        XCTAssertEqual(LaTeXTable.header("cosine", mathHeaders: [:]), "cosine")
        XCTAssertEqual(LaTeXTable.header("query · l2", mathHeaders: ["l2": "d"]), #"query \ensuremath{\cdot} $d$"#)
        XCTAssertEqual(LaTeXTable.header("a_b · x", mathHeaders: ["l2": "d"]), #"a\_b \ensuremath{\cdot} x"#)
    }

    func testEveryTeXSpecialCharacterIsText() {
        XCTAssertEqual(LaTeXTable.escape("\\input{/etc/passwd}"), "\\textbackslash{}input\\{/etc/passwd\\}")
        XCTAssertEqual(LaTeXTable.escape("50% & $x_1^2$ #~"), "50\\% \\& \\$x\\_1\\textasciicircum{}2\\$ \\#\\textasciitilde{}")
        XCTAssertEqual(LaTeXTable.escape("<b>\n"), "\\textless{}b\\textgreater{} ")
        // No command can survive: every backslash in the output starts one of our replacements.
        for name in ExampleStudy.hostileNames {
            let escaped = LaTeXTable.escape(name)
            XCTAssertFalse(escaped.contains("\\input"), escaped)
            XCTAssertFalse(escaped.contains("\n"))
        }
    }
}

final class TableCSVTests: XCTestCase {
    func testFormulaInjectionAndQuoting() {
        let table = TableData(cornerHeader: "=HYPERLINK(\"x\")", columnHeaders: ["@cmd", "a,b", "plain", "value"],
                              rows: [TableData.Row(header: "+x", cells: [TableData.Cell("-0.25"), TableData.Cell("-1+1"),
                                                                         TableData.Cell("—"), TableData.Cell("-0.50", value: -0.5)])])
        XCTAssertEqual(TableCSV.text(table), "\"'=HYPERLINK(\"\"x\"\")\",'@cmd,\"a,b\",plain,value\n'+x,-0.25,'-1+1,,-0.5\n")
    }

    /// The long-form correlations carry the full-precision numbers of metrics.json.
    func testCorrelationsCSVMatchesTheFindings() throws {
        let (analysis, findings) = ExampleStudy.result
        let text = TableCSV.correlations(findings, tasks: analysis.tasks, modules: analysis.modules, metrics: DistanceMetric.allCases)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(lines[0].prefix(4), ["module", "metric", "coefficient", "mean"])
        XCTAssertEqual(lines.count, 1 + 2 * DistanceMetric.allCases.count * 3)
        let row = try XCTUnwrap(lines.first { $0[0] == "value" && $0[1] == "cosine" && $0[2] == "spearman" })
        let expected = try XCTUnwrap(findings.correlations[.cosine]?["value"]?[.spearman])
        XCTAssertEqual(Double(row[3]), expected.mean)
        XCTAssertEqual(Double(row[4]), expected.std)
        // CoLA's δ row is constant: its ρ is undefined, an empty field.
        XCTAssertEqual(row[11 + analysis.tasks.firstIndex(of: "cola")!], "")
    }
}

final class ReportRequestTests: XCTestCase {
    func testConfigFileWithRelativePathsAndOverrides() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.write("study/study.json", text: """
        {"adapters": {"cola": "a/cola", "rte": "/abs/rte"}, "scores": "scores.csv", "name": "demo",
         "formats": ["html", "pdf"], "metrics": ["cosine"], "figure_width": 300, "title": null}
        """)
        let request = try ReportRequest.readConfig(path)
        XCTAssertEqual(request.adapters, ["cola=\(directory.path)/study/a/cola", "rte=/abs/rte"])
        XCTAssertEqual(request.scores, directory.path + "/study/scores.csv")
        XCTAssertEqual(request.formats, ["html", "pdf"])
        XCTAssertEqual(request.figureWidth, "300.0")
        XCTAssertEqual(try ReportRequest.parseFigureWidth(request.figureWidth), 300)
        var commandLine = ReportRequest()
        commandLine.name = "other"
        let merged = request.overridden(by: commandLine)
        XCTAssertEqual(merged.name, "other")
        XCTAssertEqual(merged.adapters, request.adapters)
        XCTAssertEqual(merged.metrics, ["cosine"])
    }

    /// A study file of both kinds: `lora` as a list or an object (paths relative to the file), its scores
    /// and the intruder options; the command line's `--lora` replaces the file's list.
    func testConfigFileOfBothKinds() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.write("study.json", text: """
        {"base": "fft/base.safetensors", "adapters": ["fft/sst2"], "lora": {"sst2": "lora/sst2"}, "lora_scores": "lora.csv",
         "intruder_k": 4, "intruder_epsilon": 0.25}
        """)
        let request = try ReportRequest.readConfig(path)
        XCTAssertEqual(request.lora, ["sst2=\(directory.path)/lora/sst2"])
        XCTAssertEqual(request.loraScores, directory.path + "/lora.csv")
        XCTAssertEqual(request.intruderK, 4)
        XCTAssertEqual(request.intruderEpsilon, 0.25)
        let listed = try ReportRequest.readConfig(directory.write("list.json", text: #"{"lora": ["lora/irony", "x=lora/y"]}"#))
        XCTAssertEqual(listed.lora, ["\(directory.path)/lora/irony", "x=\(directory.path)/lora/y"])
        var commandLine = ReportRequest()
        commandLine.lora = ["other"]
        XCTAssertEqual(request.overridden(by: commandLine).lora, ["other"])
        XCTAssertEqual(request.overridden(by: ReportRequest()).intruderK, 4)
        let wrong = directory.write("wrong.json", text: #"{"intruder_k": "ten"}"#)
        XCTAssertThrowsError(try ReportRequest.readConfig(wrong)) { error in
            XCTAssertTrue((error as! ToolError).message.contains("\"intruder_k\": must be an integer"))
        }
    }

    func testConfigErrorsNameTheFileAndKey() {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cases: [(String, String)] = [
            ("{\"adapter\": []}", "\"adapter\": unknown option"),
            ("{\"formats\": \"html\"}", "\"formats\": must be an array of strings"),
            ("{\"subspace_rank\": 2.5}", "\"subspace_rank\": must be an integer"),
            ("[1]", "must be a JSON object"),
            ("{\"name\": ", "not valid JSON"),
        ]
        for (index, (text, expected)) in cases.enumerated() {
            let path = directory.write("c\(index).json", text: text)
            XCTAssertThrowsError(try ReportRequest.readConfig(path)) { error in
                let error = error as! ToolError
                XCTAssertEqual(error.exitCode, 65)
                XCTAssertTrue(error.message.hasPrefix(path), error.message)
                XCTAssertTrue(error.message.contains(expected), error.message)
            }
        }
        XCTAssertEqual((try? ReportRequest.readConfig(directory.path + "/missing.json")) == nil, true)
    }

    func testOptionValidation() {
        XCTAssertEqual(try ReportFormat.parseList(["pdf", "HTML", "pdf"]), [.html, .pdf])
        XCTAssertThrowsError(try ReportFormat.parseList(["docx"])) { XCTAssertEqual(($0 as! ToolError).exitCode, 64) }
        XCTAssertThrowsError(try ReportRequest.parseMetrics(["euclid"])) { XCTAssertEqual(($0 as! ToolError).exitCode, 64) }
        XCTAssertEqual(try ReportRequest.parseFigureWidth("single"), FigureWidth.singleColumn)
        XCTAssertThrowsError(try ReportRequest.parseFigureWidth("5000"))
        XCTAssertThrowsError(try ReportRequest.parseFigureWidth("nan"))
    }
}
