import Foundation
import JSONText
import TVGeoTestSupport
import XCTest

/// End-to-end: `report --style`, `--label` and the study file's `style` and `labels`.
final class StyleCommandTests: XCTestCase {
    static let example = repositoryRoot + "/examples/minilm-glue8"
    static let adapters = ["cola", "mrpc", "rte", "sst2"].map { example + "/adapters/" + $0 }
    var directory: TemporaryDirectory!

    override func setUp() { directory = TemporaryDirectory("style-cli") }
    override func tearDown() { directory.remove() }

    func testStyleChangesTheFontRemovesTitlesAndReachesThePage() throws {
        let style = directory.write("paper.json", text: #"""
        {"font": {"family": "DejaVu Serif", "size": 9}, "titles": false, "colour_range": "robust", "png_dpi": 300}
        """#)
        let out = directory.path + "/styled"
        let result = try runTVGeo(["report", "-q"] + Self.adapters + ["--scores", Self.example + "/scores.csv", "--out", out,
                                                                   "--formats", "html,pdf,svg,png", "--style", style], in: directory.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains(#"html { font-family: "DejaVu Serif", "DejaVu Sans""#), "the page takes the style's font")
        XCTAssertTrue(html.contains("font-size: 16.9px"), "15 px × 9/8")
        let svg = try String(contentsOfFile: out + "/figures/heatmap-cosine-value.svg", encoding: .utf8)
        // The tooltips and the root element's <title> (the figure's accessible name) stay; no drawn title.
        XCTAssertTrue(svg.contains("<text"), "the SVG writes its text as text")
        XCTAssertFalse(svg.contains(">Cosine distance · value</text>"), "no drawn title with titles off")
        XCTAssertTrue(svg.contains("font-family=\"'DejaVu Serif', serif\""), "SVG text in the style's font")
        XCTAssertFalse(svg.contains("DejaVu Sans"), "SVG text in the style's font")
        // A PNG at 300 dpi: 300/72 pixels per point.
        let png = try Data(contentsOf: URL(fileURLWithPath: out + "/figures/pca-cosine-value.png"))
        let pixelWidth = png[16..<20].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(Double(pixelWidth), 240 * 300 / 72, accuracy: 2)
        guard let fonts = runTool("pdffonts", [out + "/figures/heatmap-cosine-value.pdf"]),
              let pageFonts = runTool("pdffonts", [out + "/report.pdf"]) else {
            throw RequiredTools.missing("pdffonts (poppler-utils) is not installed")
        }
        XCTAssertTrue(fonts.output.contains("DejaVuSerif"), fonts.output)
        XCTAssertFalse(fonts.output.contains("DejaVuSans"), fonts.output)
        XCTAssertTrue(pageFonts.output.contains("DejaVuSerif"), pageFonts.output)
    }

    func testMissingFontFallsBackWithAWarning() throws {
        let style = directory.write("style.json", text: #"{"font": {"family": "Nonexistent Grotesk"}}"#)
        let result = try runTVGeo(["report", "-q"] + Self.adapters + ["--out", directory.path + "/o", "--formats", "csv", "--style", style],
                                  in: directory.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, #"tvgeo: warning: font "Nonexistent Grotesk" is not installed; figures and the PDF use DejaVu Sans instead"#
                       + " (fc-list lists the installed fonts)\n")
    }

    func testBadStylesAndLabelsAreRefusedWithTheirExitCodes() throws {
        let typo = directory.write("typo.json", text: #"{"font": {"famly": "DejaVu Serif"}}"#)
        let range = directory.write("range.json", text: #"{"colour_range": "robsut"}"#)
        let study = directory.write("study.json", text: #"{"adapters": ["\#(Self.adapters[0])", "\#(Self.adapters[1])"], "stlye": {}}"#)
        let studyLabels = directory.write("labels.json", text: #"{"adapters": ["\#(Self.adapters[0])", "\#(Self.adapters[1])"], "#
                                          + #""labels": {"mrcp": "MRPC"}}"#)
        let cases: [([String], Int32, String)] = [
            (["--style", typo], 65, typo + #": "font.famly": unknown key (did you mean family?) (known: family, size)"#),
            (["--style", range], 65, #""colour_range": unknown colour range "robsut" (did you mean robust?)"#),
            (["--style", directory.path + "/none.json"], 66, "none.json"),
            (["--label", "coal=CoLA"], 64, #"--label "coal=CoLA": no task "coal" in this study (did you mean cola?) (tasks: cola, mrpc)"#),
            (["--label", "cola"], 64, "write TASK=LABEL"),
            (["--label", "cola=X", "--label", "mrpc=X"], 64, #"cola and mrpc would both show as "X""#),
        ]
        for (extra, status, message) in cases {
            let result = try runTVGeo(["report", "-q", Self.adapters[0], Self.adapters[1], "--out", directory.path + "/never"] + extra,
                                      in: directory.path)
            XCTAssertEqual(result.status, status, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(extra): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        for (config, message) in [(study, #": "stlye": unknown option (did you mean style?)"#),
                                  (studyLabels, #": "labels.mrcp": no task "mrcp" in this study (did you mean mrpc?)"#)] {
            let result = try runTVGeo(["report", "-q", "--config", config, "--out", directory.path + "/never"], in: directory.path)
            XCTAssertEqual(result.status, 65, result.stderr)
            XCTAssertTrue(result.stderr.contains(config + message), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/never"))
        let analyze = try runTVGeo(["analyze", "-q", Self.adapters[0], Self.adapters[1], "--out", directory.path + "/never",
                                    "--figures", "svg", "--style", typo], in: directory.path)
        XCTAssertEqual(analyze.status, 65, analyze.stderr)
    }

    func testLabelsShowInTablesAndPagesWhileFilesKeepTaskNames() throws {
        let out = directory.path + "/labelled"
        let result = try runTVGeo(["report", "-q"] + Self.adapters + ["--scores", Self.example + "/scores.csv", "--out", out,
                                                                   "--formats", "html,pdf,tex,json", "--label", "cola=CoLA-acceptability",
                                                                   "--label", "sst2=SST-2"], in: directory.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        let tex = try String(contentsOfFile: out + "/tables/correlations-per-task-value.tex", encoding: .utf8)
        XCTAssertTrue(tex.contains("CoLA-acceptability") && tex.contains("SST-2"), tex)
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("CoLA-acceptability = cola"), "the inputs say which label is which task")
        let metrics = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))))
        XCTAssertEqual(metrics.objectPairs?.first { $0.0 == "tasks" }?.1.arrayValue?.compactMap(\.stringValue), ["cola", "mrpc", "rte", "sst2"])
        let files = try FileManager.default.contentsOfDirectory(atPath: out + "/tables") + FileManager.default.contentsOfDirectory(atPath: out)
        XCTAssertFalse(files.contains { $0.contains("CoLA") || $0.contains("SST-2") }, "file names come from metrics and modules")
        guard let text = runTool("pdftotext", [out + "/report.pdf", "-"]) else {
            throw RequiredTools.missing("pdftotext (poppler-utils) is not installed")
        }
        XCTAssertTrue(text.output.contains("CoLA-acceptability"))
    }
}
