import Foundation
import JSONText
import TVGeoBrowserSupport
import TVGeoTestSupport
import XCTest

/// Runs a command-line tool (pdfinfo, pdftotext, pdflatex) found on PATH and returns its status and
/// output; nil when the tool is not on PATH.
func runTool(_ name: String, _ arguments: [String], in directory: String? = nil) -> (status: Int32, output: String)? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    let candidates = path.split(separator: ":").map { $0 + "/" + name }
    guard let path = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else { return nil }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// End-to-end: `tvgeo report` on the embedded example, as the README runs it.
final class ReportCommandTests: XCTestCase {
    static let example = repositoryRoot + "/examples/minilm-glue8"
    static let tasks = ["cola", "mrpc", "rte", "sst2", "emotion", "hate", "irony", "offensive"]
    static let adapters = tasks.map { example + "/adapters/" + $0 }

    /// One full report, written once for the tests that only read it.
    static let fullReport: (folder: String, outcome: CommandOutcome) = {
        let directory = TemporaryDirectory("report-e2e")
        let folder = directory.path + "/minilm-glue8"
        let outcome = try! runTVGeo(["report"] + adapters + ["--scores", example + "/scores.csv", "--out", folder], in: directory.path)
        return (folder, outcome)
    }()

    func testEveryPromisedFileIsWritten() throws {
        let (folder, outcome) = Self.fullReport
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("Spearman ρ between δ(i,j)"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("open \(folder)/report.html"), outcome.stdout)
        XCTAssertEqual(outcome.stderr, "", "no warning on the example")
        var expected = ["report.html", "report.pdf", "metrics.json", ".tvgeo-output", "figures/heatmap-delta.svg",
                        "tables/correlations.tex", "tables/correlations.csv", "tables/correlations-detail.tex"]
        for metric in ["l2", "cosine", "grassmann", "grassmann_b", "grassmann_a"] {
            for module in ["query", "value"] {
                for kind in ["heatmap", "pca", "mds", "profile", "delta"] {
                    expected += ["svg", "pdf", "png"].map { "figures/\(kind)-\(metric)-\(module).\($0)" }
                }
                expected += ["tex", "csv"].map { "tables/distances-\(metric)-\(module).\($0)" }
            }
        }
        for file in expected {
            let path = folder + "/" + file
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), file)
        }
        // metrics.json carries the provenance with a digest of every input.
        let metrics = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/metrics.json"))))
        let inputs = try XCTUnwrap(metrics["provenance"]?["inputs"]?.arrayValue)
        XCTAssertEqual(inputs.count, 2 * 8 + 1, "config and weights of 8 adapters, the scores")
        for input in inputs { XCTAssertEqual(input["sha256"]?.stringValue?.count, 64) }
    }

    func testHTMLIsSelfContained() throws {
        let (folder, outcome) = Self.fullReport
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        for pattern in ["src=\"http", "href=\"http", "src=\"//", "href=\"//", "<script", "<link", "@import", "url(http"] {
            XCTAssertFalse(html.contains(pattern), pattern)
        }
        XCTAssertTrue(html.contains("Content-Security-Policy"))
    }

    /// The PDF: A4 pages, every font embedded, page numbers, each section where it should be.
    func testPDFPagesAndFonts() throws {
        let (folder, outcome) = Self.fullReport
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let pdf = folder + "/report.pdf"
        guard let info = runTool("pdfinfo", [pdf]) else { throw RequiredTools.missing("pdfinfo (poppler-utils) is not installed") }
        XCTAssertEqual(info.status, 0, info.output)
        let pages = try XCTUnwrap(info.output.split(separator: "\n").first { $0.hasPrefix("Pages:") }
            .flatMap { Int($0.split(separator: " ").last!) })
        XCTAssertTrue(info.output.contains("595.276 x 841.89 pts (A4)") || info.output.contains("595.28 x 841.89 pts (A4)"), info.output)
        XCTAssertGreaterThanOrEqual(pages, 12, "title page, inputs, five metric sections of two modules each, methods, provenance")
        // The footer numbers every page "n / pages".
        let text = try XCTUnwrap(runTool("pdftotext", ["-layout", pdf, "-"])).output
        let pageTexts = text.split(separator: "\u{0C}", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        XCTAssertEqual(pageTexts.count, pages)
        for (index, page) in pageTexts.enumerated() { XCTAssertTrue(page.contains("\(index + 1) / \(pages)"), "page \(index + 1) footer") }
        for heading in ["Summary", "Inputs", "Cosine distance", "Hierarchy of the distances", "Merge loss and distances", "Methods", "Provenance"] {
            XCTAssertTrue(text.contains(heading), heading)
        }
        XCTAssertTrue(text.contains("0.48 (0.37)"), "the poster's table is in the PDF")
        if let fonts = runTool("pdffonts", [pdf]) {
            let rows = fonts.output.split(separator: "\n").dropFirst(2)
            XCTAssertFalse(rows.isEmpty)
            for row in rows { XCTAssertTrue(row.contains(" yes "), "font not embedded: \(row)") }
        }
    }

    /// The tables compile with pdflatex when a TeX engine is installed.
    func testLaTeXTablesCompile() throws {
        let (folder, outcome) = Self.fullReport
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        guard runTool("pdflatex", ["--version"]) != nil else {
            throw RequiredTools.missing("pdflatex is not installed: LaTeX tables not compiled")
        }
        let directory = TemporaryDirectory("latex")
        defer { directory.remove() }
        let tables = try FileManager.default.contentsOfDirectory(atPath: folder + "/tables").filter { $0.hasSuffix(".tex") }.sorted()
        XCTAssertGreaterThan(tables.count, 10)
        let body = tables.map { "\\noindent\\resizebox{\\linewidth}{!}{\\input{\(folder)/tables/\($0)}}\\par\\bigskip" }.joined(separator: "\n")
        directory.write("main.tex", text: """
        \\documentclass{article}
        \\usepackage[T1]{fontenc}
        \\usepackage{booktabs}
        \\usepackage{graphicx}
        \\begin{document}
        \(body)
        \\end{document}
        """)
        let result = try XCTUnwrap(runTool("pdflatex", ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "main.tex"],
                                           in: directory.path))
        XCTAssertEqual(result.status, 0, String(result.output.suffix(3000)))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/main.pdf"))
        // Headers are the metrics' symbols, not their ids; negative numbers print a minus sign.
        let correlations = try String(contentsOfFile: folder + "/tables/correlations.tex", encoding: .utf8)
        let symbols = #"$d_{\mathrm{L2}}$ & $d_{\cos}$ & $d_{G}$ & $d_{G,B}$ & $d_{G,A}$ & $\mathrm{shift}_C$ & $\mathrm{err}_C$"#
        XCTAssertTrue(correlations.contains("Module & " + symbols + #" \\"#), correlations)
        for table in tables where table.hasPrefix("correlations") {
            let tex = try String(contentsOfFile: folder + "/tables/" + table, encoding: .utf8)
            XCTAssertFalse(tex.contains("grassmann"), "\(table): a raw metric id")
            XCTAssertFalse(tex.range(of: #"(^|[ \[(])-[0-9]"#, options: .regularExpression) != nil, "\(table): a hyphen for minus")
        }
        // -raw: in drawing order, so a subscript stays beside its letter.
        guard let printed = runTool("pdftotext", ["-raw", directory.path + "/main.pdf", "-"])?.output else {
            throw RequiredTools.missing("pdftotext (poppler-utils) is not installed: the compiled tables were not read")
        }
        let text = printed.filter { !$0.isWhitespace }
        for symbol in ["dL2", "dcos", "dG,B", "dG,A", "\u{2212}0."] { XCTAssertTrue(text.contains(symbol), "printed: \(symbol)") }
    }

    /// Headless Chromium: the page renders (not blank), prints, logs no error and fetches nothing.
    func testRendersInChromium() throws {
        let (folder, outcome) = Self.fullReport
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        guard let browser = HeadlessChromium.detect() else { throw RequiredTools.missing("no Chromium on PATH: the HTML was not rendered") }
        let load = try browser.load(folder + "/report.html")
        XCTAssertEqual(load.consoleErrors, [], "console errors")
        XCTAssertEqual(load.networkRequests, [], "nothing fetched")
        XCTAssertGreaterThan(load.screenshot.nonWhiteFraction, 0.02, "the first screen is not blank")
        let printed = try XCTUnwrap(load.printedText)
        XCTAssertTrue(printed.contains("Task-vector geometry of minilm-glue8"))
        XCTAssertTrue(printed.contains("Provenance"))
    }
}

/// Hostile task names, output safety and option errors.
final class ReportSafetyTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory("report-safety") }
    override func tearDown() { directory.remove() }
    let adapters = ReportCommandTests.adapters

    func testHostileTaskNamesStayText() throws {
        let names = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "\\input{/etc/passwd}", "../../x",
                     "<script>document.body.setAttribute('data-pwned','1')</script>"]
        let arguments = zip(names, adapters).map { "\($0)=\($1)" }
        let out = directory.path + "/hostile"
        let result = try runTVGeo(["report", "--quiet"] + arguments + ["--out", out, "--formats", "html,tex,csv,svg,json"], in: directory.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        // Nothing escaped the output folder.
        let outside = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertEqual(outside, ["hostile"])
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("<img"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        for file in try FileManager.default.contentsOfDirectory(atPath: out + "/tables") where file.hasSuffix(".tex") {
            let tex = try String(contentsOfFile: out + "/tables/" + file, encoding: .utf8)
            XCTAssertFalse(tex.contains("\\input"), file)
        }
        for file in try FileManager.default.contentsOfDirectory(atPath: out + "/figures") {
            let svg = try String(contentsOfFile: out + "/figures/" + file, encoding: .utf8)
            XCTAssertFalse(svg.contains("<script"), file)
        }
        guard let browser = HeadlessChromium.detect() else {
            throw RequiredTools.missing("no Chromium on PATH: the hostile page was not rendered")
        }
        let load = try browser.load(out + "/report.html")
        XCTAssertFalse(load.dom.contains("data-pwned=\"1\""), "no injected script ran")
        XCTAssertTrue(load.dom.contains("setAttribute('data-pwned','1')"), "the name is shown as text")
        XCTAssertEqual(load.consoleErrors, [], "no blocked script or fetch either: nothing was injected")
        XCTAssertEqual(load.networkRequests, [])
        XCTAssertTrue(load.dom.contains("<title>Task-vector geometry of"), "the title, a sentinel a script would change, is intact")
    }

    func testForeignFolderIsRefusedThenOnlyToolFilesReplacedWithForce() throws {
        let out = directory.path + "/mine"
        directory.write("mine/notes.txt", text: "keep me")
        directory.write("mine/report.html", text: "old")
        let refused = try runTVGeo(["report", "-q", adapters[0], adapters[1], "--out", out, "--formats", "html,json"], in: directory.path)
        XCTAssertEqual(refused.status, 73, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--force"), refused.stderr)
        XCTAssertEqual(try String(contentsOfFile: out + "/report.html", encoding: .utf8), "old")
        let forced = try runTVGeo(["report", "-q", adapters[0], adapters[1], "--out", out, "--formats", "html,json", "--force"], in: directory.path)
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try String(contentsOfFile: out + "/notes.txt", encoding: .utf8), "keep me")
        XCTAssertTrue(try String(contentsOfFile: out + "/report.html", encoding: .utf8).hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/metrics.json"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/.tvgeo-output"), "no marker: a later run must not replace the folder")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.contains("tvgeo-tmp") }
        XCTAssertEqual(leftovers, [])
    }

    func testRerunReplacesTheEarlierReport() throws {
        let out = directory.path + "/again"
        for formats in ["html,json,svg", "json"] {
            let result = try runTVGeo(["report", "-q", adapters[0], adapters[1], adapters[2], "--out", out, "--formats", formats], in: directory.path)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        XCTAssertEqual(files, [".tvgeo-output", "layers.safetensors", "metrics.json"], "the second report replaced the first as a whole")
        let siblings = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(siblings, ["again"], "no staging folder left")
    }

    func testConfigFileRunsTheSameStudy() throws {
        let config = directory.write("study.json", text: """
        {"adapters": {"a": "\(adapters[0])", "b": "\(adapters[1])", "c": "\(adapters[2])"},
         "out": "from-config", "formats": ["json", "csv"], "metrics": ["cosine"], "title": "Config run"}
        """)
        let result = try runTVGeo(["report", "-q", "--config", config], in: directory.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        let metrics = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: directory.path + "/from-config/metrics.json"))))
        XCTAssertEqual(metrics["tasks"], .array(["a", "b", "c"].map(JSONValue.string)))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/from-config/tables/distances-cosine-query.csv"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/from-config/tables/distances-l2-query.csv"))
        // The command line wins over the file.
        let override = try runTVGeo(["report", "-q", "--config", config, "--out", "elsewhere"], in: directory.path)
        XCTAssertEqual(override.status, 0, override.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/elsewhere/metrics.json"))
    }

    /// --figure-width single: every standalone figure is one column (240 pt) wide; --modules and
    /// --metrics narrow the report.
    func testFigureWidthModulesAndMetrics() throws {
        let out = directory.path + "/narrow"
        let result = try runTVGeo(["report", "-q", adapters[0], adapters[1], adapters[2], "--out", out, "--formats", "pdf,json",
                                   "--figure-width", "single", "--modules", "value", "--metrics", "cosine,grassmann"], in: directory.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        let figures = try FileManager.default.contentsOfDirectory(atPath: out + "/figures").sorted()
        XCTAssertEqual(figures, ["heatmap-cosine-value.pdf", "heatmap-grassmann-value.pdf", "hierarchy-grassmann-cosine-value.pdf",
                                 "mds-cosine-value.pdf", "mds-grassmann-value.pdf", "pca-cosine-value.pdf", "pca-grassmann-value.pdf",
                                 "profile-cosine-value.pdf", "profile-grassmann-value.pdf"])
        guard runTool("pdfinfo", ["-v"]) != nil else { throw RequiredTools.missing("pdfinfo (poppler-utils) is not installed") }
        for figure in figures {
            let info = try XCTUnwrap(runTool("pdfinfo", [out + "/figures/" + figure])).output
            let size = info.split(separator: "\n").first { $0.hasPrefix("Page size:") } ?? ""
            XCTAssertTrue(size.contains(" 240 x "), "\(figure): \(size)")
        }
        let metrics = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))))
        XCTAssertEqual(metrics["modules"], .array([.string("value")]))
    }

    /// The console's correlation table shows the metrics --metrics chose (in canonical order),
    /// for the modules --modules kept, the best of each row marked among them.
    func testConsoleTableShowsOnlyTheChosenMetricsAndModules() throws {
        let scores = ReportCommandTests.example + "/scores.csv"
        let result = try runTVGeo(["report"] + adapters + ["--scores", scores, "--out", directory.path + "/chosen", "--formats", "json",
                                                          "--metrics", "grassmann,cosine", "--modules", "value"], in: directory.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("module ") }, result.stdout)
        XCTAssertEqual(lines[header].split(separator: " "), ["module", "cosine", "grassmann"], result.stdout)
        XCTAssertTrue(lines[header + 1].hasPrefix("value "), result.stdout)
        XCTAssertEqual(lines[header + 1].split(separator: " ", omittingEmptySubsequences: true).count, 5, "value, then 2 × \"mean (std)\"")
        XCTAssertTrue(lines[header + 1].contains("*"), "the best of the chosen metrics is marked: \(lines[header + 1])")
        // Then the best predictors in and out of sample (lines starting "best "), then the findings.
        let next = try XCTUnwrap(lines[(header + 2)...].first { !$0.hasPrefix("best ") }, result.stdout)
        XCTAssertTrue(lines[header + 2].hasPrefix("best predictor in sample: cosine/value"), result.stdout)
        XCTAssertTrue(next.hasPrefix("• "), "no other module row: \(result.stdout)")
        XCTAssertFalse(result.stdout.contains("grassmann_b") || result.stdout.contains("—"), result.stdout)
    }

    /// --templates DIR: a template that does not parse is one line naming the file, line and
    /// column (exit 65); a file tvgeo does not use is a warning with the closest name.
    func testTemplateFolderProblemsOnTheCommandLine() throws {
        directory.write("my-templates/section.mustache", text: "<section>\n  <h2>{{title}}</h2>\n  <ul>{{#figures}}<li>{{name}}</li>\n")
        let broken = try runTVGeo(["report", adapters[0], adapters[1], "--out", "never", "--templates", "my-templates"], in: directory.path)
        XCTAssertEqual(broken.status, 65, broken.stderr)
        XCTAssertEqual(broken.stderr, "tvgeo: error: my-templates/section.mustache: line 3, column 7: unclosed section \"figures\"\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/never"))

        try FileManager.default.moveItem(atPath: directory.path + "/my-templates/section.mustache",
                                         toPath: directory.path + "/my-templates/secton.mustache")
        let misspelt = try runTVGeo(["report", "-q", adapters[0], adapters[1], "--out", "out", "--formats", "html",
                                     "--templates", "my-templates"], in: directory.path)
        XCTAssertEqual(misspelt.status, 0, misspelt.stderr)
        XCTAssertEqual(misspelt.stderr, "tvgeo: warning: my-templates/secton.mustache is not a template tvgeo uses "
                       + "(did you mean section.mustache?); known: report, section, block, figure, table (.mustache), style.css\n")
    }

    func testOptionErrorsAreUsageErrorsAndWriteNothing() throws {
        let cases: [([String], Int32, String)] = [
            (["--formats", "docx"], 64, "unknown report format"),
            (["--metrics", "euclid"], 64, "unknown metric"),
            (["--figure-width", "huge"], 64, "--figure-width"),
            (["--modules", "nope"], 64, "--modules: no module \"nope\""),
            (["--modules", "qu\u{0435}ry"], 64, "--modules: no module \"qu\\u{0435}ry\" in these adapters (they share query, value)"),
            (["--templates", "/nonexistent/t"], 66, "/nonexistent/t"),
            (["--config", "/nonexistent/study.json"], 66, "/nonexistent/study.json"),
        ]
        for (extra, status, message) in cases {
            let result = try runTVGeo(["report", "-q", adapters[0], adapters[1], "--out", directory.path + "/never"] + extra, in: directory.path)
            XCTAssertEqual(result.status, status, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(extra): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/never"))
    }
}
