import AnalysisCore
import Charts
import Diagnostics
import Foundation
import JSONText
@testable import Reporting
import Study
import StudyFigures
import TVGeoTestSupport
import XCTest

/// The style file (`--style`, the study file's `style`), display labels, and how both reach the
/// report's figures, tables and pages.
final class FigureStyleFileTests: XCTestCase {
    private func parse(_ text: String, path: String? = nil) throws(ToolError) -> FigureStyle {
        let json = try! JSONParser.parse(Array(text.utf8))
        return try FigureStyleFile.parse(json, file: "style.json", path: path)
    }

    func testTheIssuesStyleParses() throws {
        let style = try parse(#"{"font": {"family": "DejaVu Serif", "size": 9}, "titles": false, "colour_range": "robust"}"#)
        XCTAssertEqual(style.fontFamily, "DejaVu Serif")
        XCTAssertEqual(style.fontSize, 9)
        XCTAssertFalse(style.titles)
        XCTAssertEqual(style.colourRange, .robust)
        XCTAssertTrue(style.annotations, "keys left out keep the defaults")
        let more = try parse(#"{"colour_map": {"heatmap": "cividis", "delta": "purple_orange"}, "colour_range": [0.5, 1.5],"#
                             + #" "annotations": false, "number_format": 1, "png_dpi": 300, "width": "single"}"#)
        XCTAssertEqual(more.heatmapColourMap, .cividis)
        XCTAssertEqual(more.deltaColourMap, .purpleOrange)
        XCTAssertEqual(more.colourRange, .fixed(0.5, 1.5))
        XCTAssertFalse(more.annotations)
        XCTAssertEqual(more.decimals, 1)
        XCTAssertEqual(more.pngDPI, 300)
        XCTAssertEqual(more.png, .png(scale: 300.0 / 72))
        XCTAssertEqual(more.width, FigureWidth.singleColumn)
        XCTAssertEqual(try parse(#"{"colour_map": "magma", "width": 320}"#).heatmapColourMap, .magma)
        XCTAssertEqual(try parse(#"{"width": 320}"#).width, 320)
        let perMetric = try parse(#"{"colour_range": {"cosine": [0.9, 1.05], "delta": "robust"}}"#)
        XCTAssertEqual(perMetric.colourRange(for: "cosine"), .fixed(0.9, 1.05))
        XCTAssertEqual(perMetric.colourRange(for: "delta"), .robust)
        XCTAssertEqual(perMetric.colourRange(for: "l2"), .auto)
        // One fixed range is for the distances; δ has other units and keeps its own.
        let fixed = try parse(#"{"colour_range": [0, 2]}"#)
        XCTAssertEqual(fixed.colourRange(for: "grassmann"), .fixed(0, 2))
        XCTAssertEqual(fixed.colourRange(for: "delta"), .auto)
        XCTAssertEqual(try parse(#"{"colour_range": "robust"}"#).colourRange(for: "delta"), .robust)
    }

    func testBadKeysAndValuesNameTheKeyAndSuggest() {
        let cases: [(String, String)] = [
            (#"{"fnot": {}}"#, #"style.json: "fnot": unknown key (did you mean font?) (known: font, titles"#),
            (#"{"font": {"fmaily": "X"}}"#, #"style.json: "font.fmaily": unknown key (did you mean family?) (known: family, size)"#),
            (#"{"titels": false}"#, #""titels": unknown key (did you mean titles?)"#),
            (#"{"colour_map": "virdis"}"#, #""colour_map": unknown sequential colour map "virdis" (did you mean viridis?)"#),
            (#"{"colour_map": {"delta": "viridis"}}"#, #""colour_map.delta": unknown diverging colour map "viridis""#),
            (#"{"colour_map": {"heatmpa": "viridis"}}"#, #""colour_map.heatmpa": unknown key (did you mean heatmap?)"#),
            (#"{"colour_range": "robsut"}"#, #""colour_range": unknown colour range "robsut" (did you mean robust?)"#),
            (#"{"colour_range": [3, 1]}"#, #""colour_range": must be "auto", "robust" or [vmin, vmax]"#),
            (#"{"colour_range": [1, 2, 3]}"#, #""colour_range": must be"#),
            (#"{"colour_range": {"cosin": "auto"}}"#, #""colour_range.cosin": unknown key (did you mean cosine?)"#),
            (#"{"colour_range": {"l2": [2, 2]}}"#, #""colour_range.l2": must be "auto", "robust" or [vmin, vmax]"#),
            (#"{"font": {"size": 40}}"#, #""font.size": must be a number from 5 to 16 points"#),
            (#"{"font": {"family": ""}}"#, #""font.family": must be a font family name"#),
            (#"{"font": "DejaVu Serif"}"#, #""font": must be an object (keys: family, size)"#),
            (#"{"titles": "no"}"#, #""titles": must be true or false"#),
            (#"{"png_dpi": 5}"#, #""png_dpi": must be a number from 36 to 1200 dots per inch"#),
            (#"{"number_format": 9}"#, #""number_format": must be the number of digits after the decimal point, 0 to 6"#),
            (#"{"width": "triple"}"#, #""width": must be "single" (240 pt), "double" (500 pt) or a width in points"#),
            (#"[1]"#, "style.json: a style must be a JSON object"),
        ]
        for (text, message) in cases {
            do {
                _ = try parse(text)
                XCTFail("\(text) was accepted")
            } catch {
                XCTAssertEqual(error.exitCode, 65, text)
                XCTAssertTrue(error.message.contains(message), "\(text): \(error.message)")
            }
        }
        // Inside a study file the key's path starts at "style".
        XCTAssertThrowsError(try parse(#"{"titels": false}"#, path: "style")) { error in
            XCTAssertTrue((error as! ToolError).message.contains(#""style.titels": unknown key (did you mean titles?)"#))
        }
    }

    func testStudyFileStyleAndLabelsAndDidYouMean() throws {
        let directory = TemporaryDirectory("style-config")
        defer { directory.remove() }
        let config = directory.write("study.json", text: #"""
        {"adapters": ["a", "b"], "style": {"titles": false, "font": {"size": 9}}, "labels": {"a": "Alpha"}}
        """#)
        let request = try ReportRequest.readConfig(config)
        XCTAssertEqual(request.style?.titles, false)
        XCTAssertEqual(request.labels, [ReportRequest.TaskLabel(task: "a", label: "Alpha", file: config)])
        // --style is read over the study file's style; --figure-width wins over both.
        let styleFile = directory.write("paper.json", text: #"{"font": {"family": "DejaVu Serif"}, "width": "single"}"#)
        var commandLine = ReportRequest()
        commandLine.styleFile = styleFile
        var merged = request.overridden(by: commandLine)
        var style = try merged.figureStyle()
        XCTAssertEqual(style.fontFamily, "DejaVu Serif")
        XCTAssertEqual(style.fontSize, 9, "the study file's size stays")
        XCTAssertFalse(style.titles)
        XCTAssertEqual(style.width, FigureWidth.singleColumn)
        merged.figureWidth = "double"
        style = try merged.figureStyle()
        XCTAssertEqual(style.width, FigureWidth.doubleColumn)

        let typo = directory.write("typo.json", text: #"{"adapters": ["a"], "stlye": {}}"#)
        XCTAssertThrowsError(try ReportRequest.readConfig(typo)) { error in
            let error = error as! ToolError
            XCTAssertEqual(error.exitCode, 65)
            XCTAssertTrue(error.message.hasPrefix(typo + #": "stlye": unknown option (did you mean style?)"#), error.message)
        }
        let badLabels = directory.write("labels.json", text: #"{"labels": {"a": 3}}"#)
        XCTAssertThrowsError(try ReportRequest.readConfig(badLabels)) { error in
            XCTAssertTrue((error as! ToolError).message.contains(#""labels.a": must be a non-empty string"#))
        }
    }

    func testDisplayNamesAreCheckedAgainstTheTasks() throws {
        let tasks = ["cola", "mrpc", "rte"]
        var request = ReportRequest()
        request.labels = [try .parse("cola=CoLA"), try .parse(" rte = RTE (entailment) ")]
        XCTAssertEqual(try request.displayNames(tasks: tasks), ["CoLA", "mrpc", "RTE (entailment)"])
        // Swapping two names is fine: the labels stay distinct.
        request.labels = [try .parse("cola=mrpc"), try .parse("mrpc=cola")]
        XCTAssertEqual(try request.displayNames(tasks: tasks), ["mrpc", "cola", "rte"])

        func failure(_ labels: [ReportRequest.TaskLabel]) -> ToolError? {
            var request = ReportRequest()
            request.labels = labels
            do { _ = try request.displayNames(tasks: tasks); return nil } catch { return error }
        }
        let unknown = try XCTUnwrap(failure([try .parse("coal=CoLA")]))
        XCTAssertEqual(unknown.exitCode, 64)
        XCTAssertEqual(unknown.message, #"--label "coal=CoLA": no task "coal" in this study (did you mean cola?) (tasks: cola, mrpc, rte)"#)
        let clash = try XCTUnwrap(failure([try .parse("cola=X"), try .parse("rte=X")]))
        XCTAssertEqual(clash.exitCode, 64)
        XCTAssertTrue(clash.message.contains(#"cola and rte would both show as "X""#), clash.message)
        let onto = try XCTUnwrap(failure([try .parse("cola=rte")]))
        XCTAssertTrue(onto.message.contains(#"cola and rte would both show as "rte""#), onto.message)
        let fromFile = try XCTUnwrap(failure([ReportRequest.TaskLabel(task: "sst2", label: "SST", file: "study.json")]))
        XCTAssertEqual(fromFile.exitCode, 65)
        XCTAssertTrue(fromFile.message.hasPrefix(#"study.json: "labels.sst2": no task "sst2" in this study"#), fromFile.message)
        for bad in ["cola", "=x", "cola="] {
            XCTAssertThrowsError(try ReportRequest.TaskLabel.parse(bad)) { XCTAssertEqual(($0 as! ToolError).exitCode, 64) }
        }
    }

    func testLabelsReachFiguresTablesAndPagesButNotMetricsJSON() throws {
        var settings = ReportSettings()
        settings.displayNames = ExampleStudy.tasks.map { $0 == "cola" ? "CoLA (acceptability)" : $0 }
        let document = ExampleStudy.document(settings: settings)
        let heatmap = try XCTUnwrap(document.figure(named: "heatmap-cosine-value"))
        let texts = heatmap.scene.textMarks.map(\.text)
        XCTAssertTrue(texts.contains { $0.hasPrefix("CoLA") }, "\(texts)")
        XCTAssertFalse(texts.contains("cola"))
        let delta = try XCTUnwrap(document.figure(named: "heatmap-delta"))
        XCTAssertTrue(delta.scene.textMarks.contains { $0.text.hasPrefix("CoLA") })
        let perTask = try XCTUnwrap(document.table(named: "correlations-per-task-value"))
        XCTAssertEqual(perTask.data.rows.first?.header, "CoLA (acceptability)")
        XCTAssertTrue(LaTeXTable.text(perTask.data).contains("CoLA (acceptability)"))
        let inputs = document.sections.first { $0.id == "inputs" }!
        guard case .keyValues(let facts) = inputs.blocks[0] else { return XCTFail("inputs start with facts") }
        XCTAssertTrue(facts.contains { $0.key == "labels" && $0.value == "CoLA (acceptability) = cola" }, "\(facts)")
        // metrics.json keeps the task names.
        let (analysis, findings) = ExampleStudy.result
        let json = ReportFiles.metricsJSON(document, json: MetricsDocument.json(analysis, findings: findings, tool: ToolInfo(),
                                                                                 layers: LayersSidecar.make(for: analysis).record))
        let tasks = json.objectPairs?.first { $0.0 == "tasks" }?.1.arrayValue?.compactMap(\.stringValue)
        XCTAssertEqual(tasks, ExampleStudy.tasks)
        // The PDF pages show the label too.
        let blocks = PDFReport.blocks(document, contentWidth: 480)
        XCTAssertTrue(blocks.contains { block in
            if case .table(let data, _) = block { return data.rows.contains { $0.header == "CoLA (acceptability)" } }
            return false
        })
    }

    /// Run names that differ only at the end keep their ends in every figure of the report.
    func testRunNamesStayDistinctInTheReportsFigures() throws {
        let names = (1...8).map { "run_alpha_epoch\($0)" }
        let (analysis, findings) = ExampleStudy.renamed(names)
        for width in [FigureWidth.singleColumn, FigureWidth.doubleColumn] {
            var settings = ReportSettings(figureWidth: width)
            settings.style.fontSize = 9
            let document = ExampleStudy.document(settings: settings, analysis: analysis, findings: findings)
            for name in ["heatmap-cosine-value", "heatmap-delta", "pca-cosine-value", "profile-l2-query"] {
                let texts = try XCTUnwrap(document.figure(named: name)).scene.textMarks.map(\.text)
                for epoch in 1...8 {
                    XCTAssertTrue(texts.contains { $0.hasSuffix("epoch\(epoch)") }, "\(name) at \(width) pt shows epoch\(epoch): \(texts)")
                }
                XCTAssertFalse(texts.contains { $0.hasSuffix("…") }, "\(name): no label is cut at its end")
            }
        }
    }

    func testTitlesOffAndFontReachEveryFigureAndThePage() throws {
        var settings = ReportSettings()
        settings.style.titles = false
        settings.style.fontFamily = "DejaVu Serif"
        let document = ExampleStudy.document(settings: settings)
        XCTAssertFalse(document.figures.isEmpty)
        for figure in document.figures {
            XCTAssertNil(figure.scene.title, figure.name)
            for mark in figure.scene.textMarks {
                XCTAssertEqual(mark.style.fontFamily, "DejaVu Serif", "\(figure.name): \(mark.text)")
                XCTAssertNotEqual(mark.style.weight, .bold, "no bold title in \(figure.name): \(mark.text)")
            }
        }
        let titled = ExampleStudy.document()
        XCTAssertTrue(titled.figures.allSatisfy { $0.scene.title != nil }, "titles are on by default")

        let context = HTMLReport.context(document, style: "", svg: [:], files: [:])
        XCTAssertEqual(context["fontFamily"] as? String, "DejaVu Serif")
        let hostile = HTMLReport.cssStringContent(#"Evil"; } body { x: "</style>"#)
        XCTAssertTrue(hostile.hasPrefix(#"Evil\22 \3b "#), hostile)
        XCTAssertFalse(hostile.contains { "\"'<>&;{}:/".contains($0) }, "nothing can end the string, the rule or the element: \(hostile)")
    }

    func testModulesOfAMetricShareOneColourRange() throws {
        let (analysis, findings) = ExampleStudy.result
        for range in [FigureStyle.ColourRange.auto, .robust] {
            var style = FigureStyle()
            style.colourRange = range
            for metric in [DistanceMetric.cosine, .l2] {
                let query = AnalysisFigures.offDiagonalValues(analysis.distances[metric]!["query"]!.mean)
                let value = AnalysisFigures.offDiagonalValues(analysis.distances[metric]!["value"]!.mean)
                let shared = try XCTUnwrap(AnalysisFigures.colourRange(metric, analysis: analysis, style: style))
                XCTAssertEqual(shared, range.resolve(query + value))
                if range == .auto {
                    XCTAssertEqual(shared.lowerBound, min(query.min()!, value.min()!))
                    XCTAssertEqual(shared.upperBound, max(query.max()!, value.max()!))
                }
                func barLabels(_ module: String) -> [String] {
                    let scene = AnalysisFigures.heatmap(metric, module, analysis: analysis, findings: findings,
                                                        width: FigureWidth.doubleColumn, style: style)!
                    let barX = scene.marks.compactMap { mark -> Double? in
                        if case .rect(let rect, let s) = mark, case .linearGradient = s.fill { return rect.maxX }
                        return nil
                    }.first!
                    return scene.textMarks.filter { $0.position.x > barX && $0.rotation == 0 }.map(\.text)
                }
                XCTAssertEqual(barLabels("query"), barLabels("value"), "query and value share the colour bar (\(metric.id), \(range))")
            }
        }
    }
}

final class DocumentedStyleTests: XCTestCase {
    /// The style of docs/report.md's "Figure style" section parses as written.
    func testTheDocumentedStyleParses() throws {
        let page = try String(contentsOfFile: repositoryRoot + "/docs/report.md", encoding: .utf8)
        let section = try XCTUnwrap(page.range(of: "## Figure style"))
        let rest = page[section.upperBound...]
        let open = try XCTUnwrap(rest.range(of: "```json\n"))
        let close = try XCTUnwrap(rest[open.upperBound...].range(of: "```"))
        let json = try JSONParser.parse(Array(rest[open.upperBound..<close.lowerBound].utf8))
        let style = try FigureStyleFile.parse(json, file: "paper.json", path: nil)
        XCTAssertEqual(style.fontFamily, "DejaVu Serif")
        XCTAssertEqual(style.heatmapColourMap, .cividis)
        XCTAssertEqual(style.pngDPI, 300)
        XCTAssertEqual(style.width, FigureWidth.singleColumn)
    }
}
