import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import JSONText
import TVGeoBrowserSupport
import TVGeoTestSupport
import XCTest

/// Every string a user controls, hostile, through `tvgeo report` as the built executable runs it:
/// `--title`, `--name`, module names (from tensor names), adapter folder names, task names,
/// `base_model_name_or_path`, the scores file's `metric` column, its name and rows naming other
/// tasks, and (in `testCustomTemplatesAndStudyFileStayInert`) a study file and a `--templates`
/// folder whose templates print every value they receive. Each output is checked where it could
/// turn a string into something else: the HTML page (markup, inline SVG, MathML; headless
/// Chromium with and without its Content-Security-Policy), the SVG files, the LaTeX tables
/// (pdflatex), the CSV tables (formula prefixes), metrics.json and the PDF; and the console, where
/// a control character in a name must not reach the terminal.
final class HostileInputTests: XCTestCase {
    /// The values, one per entry point; `alert('…')` names the entry point, so that a dialog would
    /// say which one got through.
    enum Hostile {
        static let title = "<script>alert('title')</script> ]]> {{title}} \\begin{document} $\\x$ 100% & =cmd|' /C calc'!A0\nsecond line"
        /// No `/`: `--name` refuses it.
        static let name = "\"><img src=x onerror=alert('name')>{{name}}"
        /// The second ends in a noncharacter, which XML forbids.
        static let modules = ["<script>alert('module')</script>", "[0pt]]]>{{x}}&\"'\u{FFFE}", "=cmd|' /C calc'!A0"]
        /// The first task takes its name from its folder; the others are `name=path`.
        static let folders = ["<svg onload=alert('folder')>&\"", "dir&<b>\"q'", "plain"]
        static let tasks = ["<svg onload=alert('folder')>&\"", "[0pt]", "*star\u{07}"]
        static let baseModels = ["<script>alert('base')</script>", "=cmd|' /C calc'!A0", "\\begin{document}$\\x$%&#_^~{}]]>\n[1em]"]
        static let scoreMetrics = ["<script>alert('metric')</script>", "=HYPERLINK(\"http://example.com\")"]
        static let foreignTask = "<img src=x onerror=alert('scores')>"
        static let scoresFile = "scores<i>&'.csv"
        static let studyFile = "study<s>&\"'.json"
        /// The name as the provenance's command line shows it (quoted for a POSIX shell).
        static let quotedName = "'" + name.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A report written once for several tests; its folder is left for the system to clear, as
    /// `ReportCommandTests.fullReport` is.
    struct Run: Sendable {
        var out: String
        var outcome: CommandOutcome
        var html: String { (try? String(contentsOfFile: out + "/report.html", encoding: .utf8)) ?? "" }
        func text(_ relative: String) throws -> String { try String(contentsOfFile: out + "/" + relative, encoding: .utf8) }
        func files(_ folder: String, _ suffix: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: out + "/" + folder).filter { $0.hasSuffix(suffix) }.sorted()
        }
    }

    /// Small adapters of one shape with these module names (two layers, rank 2).
    static func writeAdapter(into directory: TemporaryDirectory, folder: String, baseModel: String, modules: [String], seed: UInt64) -> String {
        var random = SeededRandom(seed: seed)
        var fixture = AdapterFixture(rank: 2, alpha: 4)
        fixture.extraConfig = [("base_model_name_or_path", .string(baseModel))]
        for layer in 0..<2 {
            for module in modules {
                fixture.addModule(layer: layer, module: module, b: random.gaussians(8 * 2), a: random.gaussians(2 * 8), outFeatures: 8, inFeatures: 8)
            }
        }
        return fixture.write(into: directory, name: folder)
    }

    /// A CSV record with every field quoted.
    static func csvLine(_ fields: [String]) -> String {
        fields.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ",") + "\n"
    }

    /// Scores for every single adapter and every merge (singles carry the first metric, merges the
    /// second), and a row about a task outside the study when `foreign` is given.
    static func scoresText(tasks: [String], metrics: [String] = Hostile.scoreMetrics, foreign: String? = Hostile.foreignTask) -> String {
        var text = "model,task,metric,score\n"
        for (index, task) in tasks.enumerated() {
            text += csvLine([task, task, metrics[0], "\(80 + index)"])
            for (other, partner) in tasks.enumerated() where other != index {
                text += csvLine([task + "+" + partner, task, metrics[1], "\(70 + index * 3 + other)"])
            }
        }
        return text + (foreign.map { csvLine([$0, $0, "x", "1"]) } ?? "")
    }

    /// Two metrics of five: a smaller page for Chromium, every kind of figure and table still there.
    static let metrics = ["--metrics", "cosine,grassmann"]

    /// The hostile report, every format, written once.
    static let hostile: Run = {
        let directory = TemporaryDirectory("hostile")
        var arguments: [String] = []
        for index in 0..<3 {
            let path = writeAdapter(into: directory, folder: Hostile.folders[index], baseModel: Hostile.baseModels[index],
                                    modules: Hostile.modules, seed: UInt64(40 + index))
            arguments.append(index == 0 ? path : Hostile.tasks[index] + "=" + path)
        }
        directory.write(Hostile.scoresFile, text: scoresText(tasks: Hostile.tasks))
        let outcome = try! runTVGeo(["report", "--quiet"] + arguments
                                    + ["--scores", Hostile.scoresFile, "--title", Hostile.title, "--name", Hostile.name, "--out", "out"]
                                    + metrics, in: directory.path)
        return Run(out: directory.path + "/out", outcome: outcome)
    }()

    /// The same kind of study with plain names: what the page's markup is without hostile input.
    static let benign: Run = {
        let directory = TemporaryDirectory("benign")
        let paths = (0..<3).map { writeAdapter(into: directory, folder: "task\($0)", baseModel: "bert", modules: ["query", "value"], seed: 7) }
        directory.write("scores.csv", text: scoresText(tasks: ["task0", "task1", "task2"], metrics: ["accuracy", "f1"], foreign: "other"))
        let outcome = try! runTVGeo(["report", "--quiet"] + paths + ["--scores", "scores.csv", "--formats", "html,svg,json", "--out", "out"]
                                    + metrics, in: directory.path)
        return Run(out: directory.path + "/out", outcome: outcome)
    }()

    /// Every hostile string as a user should see it in the page, the figures and the LaTeX tables.
    static var shownStrings: [String] {
        ([Hostile.title] + Hostile.modules + Hostile.tasks + Hostile.baseModels + Hostile.scoreMetrics).map(shown)
    }

    /// `text` without the characters the page, the SVG files and the LaTeX tables drop: a BEL
    /// (XML and TeX forbid C0 controls) and U+FFFE (a noncharacter, forbidden in XML).
    static func shown(_ text: String) -> String { text.replacingOccurrences(of: "\u{07}", with: "").replacingOccurrences(of: "\u{FFFE}", with: "") }

    struct ReportNotWritten: Error {}

    /// The hostile report; a test fails (and stops) when it was not written.
    func hostileRun() throws -> Run {
        let run = Self.hostile
        XCTAssertEqual(run.outcome.status, 0, run.outcome.stderr)
        guard run.outcome.status == 0 else { throw ReportNotWritten() }
        return run
    }

    // MARK: HTML

    /// The page with every `<svg>…</svg>` element taken out.
    static func withoutInlineSVG(_ html: String) -> String {
        var out = ""
        var rest = Substring(html)
        while let start = rest.range(of: "<svg"), let end = rest[start.lowerBound...].range(of: "</svg>") {
            out += rest[..<start.lowerBound]
            rest = rest[end.upperBound...]
        }
        return out + rest
    }

    /// The page's markup is the templates' and the renderer's alone: every `<` opens a tag;
    /// outside the inline SVG (`testInlineSVGIsTheEscapedFigureFiles`) only the elements and
    /// attributes of a report with plain names appear; no event handler or new reference anywhere;
    /// and each hostile string is there as text, as given.
    func testHTMLShowsEveryStringAsTextAndNothingElse() throws {
        let run = try hostileRun()
        XCTAssertEqual(Self.benign.outcome.status, 0, Self.benign.outcome.stderr)
        let page = MarkupScan(run.html)
        XCTAssertEqual(page.problems, [], "every < opens a tag")
        let outside = MarkupScan(Self.withoutInlineSVG(run.html)), plain = MarkupScan(Self.withoutInlineSVG(Self.benign.html))
        XCTAssertTrue(outside.elementNames.isSubset(of: plain.elementNames),
                      "elements: \(outside.elementNames.subtracting(plain.elementNames))")
        XCTAssertTrue(outside.attributeNames.isSubset(of: plain.attributeNames),
                      "attributes: \(outside.attributeNames.subtracting(plain.attributeNames))")
        XCTAssertEqual(outside.elements.filter { $0.name == "meta" }.count, plain.elements.filter { $0.name == "meta" }.count)
        XCTAssertFalse(page.attributeNames.contains { $0.hasPrefix("on") })
        for element in page.elements {
            for (name, value) in element.attributes where name == "href" || name == "xlink:href" {
                let local = value.hasPrefix("#") || value == "report.pdf" || value == "metrics.json"
                    || ((value.hasPrefix("figures/") || value.hasPrefix("tables/")) && !value.contains("..") && !value.contains(":"))
                XCTAssertTrue(local, "\(element.name) \(name)=\(value)")
            }
        }
        XCTAssertNil(PageXML.problem(run.html), "the page stays well-formed XML (polyglot HTML5)")
        for string in Self.shownStrings + Hostile.folders + [Hostile.quotedName, Hostile.scoresFile, Hostile.foreignTask] {
            XCTAssertTrue(page.text.contains(string), "shown as text: \(string.debugDescription)")
        }
        XCTAssertFalse(page.text.contains("\u{07}"), "a control character is dropped")
        XCTAssertTrue(page.text.contains("score metrics: " + Hostile.scoreMetrics.joined(separator: ", ")))
    }

    /// `{{{svg}}}` inserts exactly the SVG files, checked here: the writer puts text only in
    /// escaped `<title>`, `<text>` and `<tspan>` elements, no element or reference from a name, and
    /// the files parse as XML; the hostile names show as text.
    func testInlineSVGIsTheEscapedFigureFiles() throws {
        let run = try hostileRun()
        let html = run.html
        let svgFiles = try run.files("figures", ".svg")
        XCTAssertGreaterThan(svgFiles.count, 30)
        var inlined = 0
        var rest = Substring(html)
        while let figure = rest.range(of: "<figure id=\"figure-") {
            let name = String(rest[figure.upperBound...].prefix { $0 != "\"" })
            rest = rest[figure.upperBound...]
            guard let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>"),
                  let caption = rest.range(of: "<figcaption>"), start.lowerBound < caption.lowerBound else { continue }
            let file = try run.text("figures/\(name).svg")
            let markup = file.range(of: "?>").map { String(file[$0.upperBound...]) } ?? file
            XCTAssertEqual(String(rest[start.lowerBound..<end.upperBound]), markup.trimmingCharacters(in: .whitespacesAndNewlines), name)
            inlined += 1
        }
        XCTAssertEqual(inlined, svgFiles.count, "every figure is inlined, and inlined as its file")
        var titles: [String] = [], texts: [String] = []
        for file in svgFiles {
            let svg = PageXML.parse(try run.text("figures/" + file))
            XCTAssertNil(svg.failure, file)
            XCTAssertTrue(svg.elementNames.isDisjoint(with: ["script", "foreignObject", "a", "iframe", "object", "embed"]), file)
            XCTAssertFalse(svg.attributeNames.contains { $0.lowercased().hasPrefix("on") }, file)
            for reference in svg.references { XCTAssertTrue(reference.hasPrefix("#") || reference.hasPrefix("data:"), "\(file): \(reference)") }
            XCTAssertEqual(Set(svg.textByElement.keys).subtracting(["title", "text", "tspan"]), [], "\(file): text only in <title>, <text>")
            titles += svg.textByElement["title"] ?? []
            texts += (svg.textByElement["text"] ?? []) + (svg.textByElement["tspan"] ?? [])
        }
        for task in Hostile.tasks.dropFirst().map(Self.shown) {
            XCTAssertTrue(texts.contains(task), "the label \(task) is a <text>")
        }
        for module in Hostile.modules.map(Self.shown) {
            XCTAssertTrue(titles.contains { $0.hasSuffix(" · " + module) }, "the title shows \(module) as text")
        }
    }

    /// `{{{mathML}}}` inserts formulas tvgeo writes from its metric descriptors: byte for byte the
    /// formulas of a report with plain names, with nothing of the inputs in them.
    func testMathMLIsTheSameWhateverTheInputs() throws {
        let run = try hostileRun()
        XCTAssertEqual(Self.benign.outcome.status, 0, Self.benign.outcome.stderr)
        func formulas(_ html: String) -> [String] {
            var found: [String] = []
            var rest = Substring(html)
            while let start = rest.range(of: "<math"), let end = rest[start.lowerBound...].range(of: "</math>") {
                found.append(String(rest[start.lowerBound..<end.upperBound]))
                rest = rest[end.upperBound...]
            }
            return found
        }
        let hostile = formulas(run.html), plain = formulas(Self.benign.html)
        XCTAssertGreaterThan(plain.count, 5)
        XCTAssertEqual(hostile, plain)
        for marker in ["alert", "{{", "cmd|", "begin{document}", "[0pt]", "*star"] {
            XCTAssertFalse(hostile.joined().contains(marker), marker)
        }
    }

    // MARK: Other outputs

    /// The LaTeX tables compile with pdflatex and print each string as it is: a task `[0pt]` after
    /// `\\` or `\midrule` is not a row skip, `*star` keeps its star, `\begin{document}` is text.
    func testLaTeXTablesCompileAndPrintTheStrings() throws {
        let run = try hostileRun()
        let tables = try run.files("tables", ".tex")
        XCTAssertGreaterThan(tables.count, 10)
        for table in tables {
            let tex = try run.text("tables/" + table)
            for command in ["\\begin{document}", "\\x", "\\input"] { XCTAssertFalse(tex.contains(command), "\(table): \(command)") }
            XCTAssertFalse(tex.contains("\u{07}"), table)
            let lines = tex.split(separator: "\n")
            XCTAssertEqual(lines.filter { $0.first == "[" || $0.first == "*" }, [], "\(table): no line starts with [ or *")
        }
        guard runTool("pdflatex", ["--version"]) != nil else { throw RequiredTools.missing("pdflatex is not installed: LaTeX tables not compiled") }
        let directory = TemporaryDirectory("hostile-latex")
        defer { directory.remove() }
        let body = tables.map { "\\noindent\\input{\(run.out)/tables/\($0)}\\par\\bigskip" }.joined(separator: "\n")
        directory.write("main.tex", text: """
        \\documentclass{article}
        \\usepackage[T1]{fontenc}
        \\usepackage{booktabs}
        \\usepackage[a3paper,landscape,margin=1cm]{geometry}
        \\begin{document}
        \\tiny
        \(body)
        \\end{document}
        """)
        let result = try XCTUnwrap(runTool("pdflatex", ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "main.tex"],
                                           in: directory.path))
        XCTAssertEqual(result.status, 0, String(result.output.suffix(3000)))
        guard let printed = runTool("pdftotext", [directory.path + "/main.pdf", "-"])?.output else { return }
        // T1 prints ' as a right quote; pdftotext may break or space long cells.
        let text = printed.replacingOccurrences(of: "\u{2019}", with: "'").filter { !$0.isWhitespace }
        for string in (Hostile.tasks + Hostile.modules + Hostile.baseModels).map(Self.shown) {
            let shown = string.filter { !$0.isWhitespace }
            XCTAssertTrue(text.contains(shown), "printed as text: \(string.debugDescription)")
        }
    }

    /// In every CSV table a text field that starts like a formula carries a leading `'`, and
    /// every other field reads back as written.
    func testCSVTablesNeutraliseFormulas() throws {
        let run = try hostileRun()
        var fields: Set<String> = []
        for table in try run.files("tables", ".csv") {
            for field in try CSVFields.parse(try run.text("tables/" + table)).joined() {
                if let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
                    XCTAssertNotNil(Double(field), "\(table): \(field.debugDescription) starts like a formula")
                }
                fields.insert(field)
            }
        }
        XCTAssertTrue(fields.contains("'" + Hostile.baseModels[1]), "base model")
        XCTAssertTrue(fields.contains("'" + Hostile.modules[2]), "module")
        for string in [Hostile.baseModels[0], Hostile.baseModels[2], Hostile.modules[0], Hostile.modules[1], Hostile.tasks[0], Hostile.tasks[2]] {
            XCTAssertTrue(fields.contains(string), string.debugDescription)
        }
    }

    /// metrics.json keeps every string exactly as given.
    func testMetricsJSONKeepsTheStringsAsGiven() throws {
        let run = try hostileRun()
        let metrics = try JSONParser.parse(Array(try run.text("metrics.json").utf8))
        XCTAssertEqual(metrics["tasks"], .array(Hostile.tasks.map(JSONValue.string)))
        XCTAssertEqual(Set(metrics["modules"]?.arrayValue?.compactMap(\.stringValue) ?? []), Set(Hostile.modules))
        XCTAssertEqual(metrics["adapters"]?.arrayValue?.map { $0["base_model"]?.stringValue }, Hostile.baseModels)
        let rows = try XCTUnwrap(metrics["scores"]?.arrayValue)
        XCTAssertEqual(Set(rows.compactMap { $0["metric"]?.stringValue }), Set(Hostile.scoreMetrics))
    }

    /// The PDF: its title metadata and its text are the strings as given.
    func testPDFShowsTheStrings() throws {
        let run = try hostileRun()
        guard let info = runTool("pdfinfo", [run.out + "/report.pdf"]) else {
            throw RequiredTools.missing("pdfinfo (poppler-utils) is not installed")
        }
        XCTAssertTrue(info.output.contains("Title:           " + Hostile.title.prefix { $0 != "\n" }), info.output)
        let text = try XCTUnwrap(runTool("pdftotext", [run.out + "/report.pdf", "-"])).output.filter { !$0.isWhitespace }
        for string in [Hostile.title.prefix { $0 != "\n" }, Substring(Hostile.baseModels[0]), Substring(Hostile.modules[0]),
                       Substring(Hostile.scoreMetrics[0])] {
            XCTAssertTrue(text.contains(string.filter { !$0.isWhitespace }), String(string))
        }
    }

    // MARK: Chromium

    /// The issue's test: the page shows the title, name, base models and score metric as text;
    /// no script runs, no dialog opens, nothing is fetched and nothing is logged as an error. The
    /// same holds with the Content-Security-Policy removed: the escaping alone keeps it inert.
    func testChromiumShowsTheStringsAndRunsNothing() throws {
        let run = try hostileRun()
        guard let browser = HeadlessChromium.detect() else { throw RequiredTools.missing("no Chromium on PATH: the hostile page was not rendered") }
        let html = run.html
        let csp = try XCTUnwrap(html.range(of: "<meta http-equiv=\"Content-Security-Policy\"[^>]*>", options: .regularExpression))
        let withoutCSP = run.out + "/report-without-csp.html"
        try html.replacingCharacters(in: csp, with: "").write(toFile: withoutCSP, atomically: true, encoding: .utf8)
        for page in [run.out + "/report.html", withoutCSP] {
            let load = try browser.load(page)
            XCTAssertEqual(load.dialogs, [], page)
            XCTAssertEqual(load.consoleErrors, [], page)
            XCTAssertEqual(load.networkRequests, [], page)
            XCTAssertEqual(load.failedRequests, [], page)
            XCTAssertTrue(load.requests.allSatisfy { $0.hasPrefix("file:") && $0.hasSuffix(".html") }, "\(load.requests)")
            XCTAssertTrue(load.dom.contains("<h1>&lt;script&gt;alert('title')&lt;/script&gt; ]]&gt; {{title}}"), page)
            for string in [Hostile.quotedName] + Hostile.baseModels + Hostile.scoreMetrics {
                XCTAssertTrue(load.dom.contains(DOMText.serialized(string)), "\(page): \(string)")
            }
            let printed = try XCTUnwrap(load.printedText).filter { !$0.isWhitespace }
            for string in [String(Hostile.title.prefix { $0 != "\n" }), Hostile.quotedName, Hostile.baseModels[0], Hostile.scoreMetrics[0]] {
                XCTAssertTrue(printed.contains(string.filter { !$0.isWhitespace }), "\(page) prints \(string)")
            }
        }
    }

    /// The probe behind `dialogs`: a page that runs `alert` is seen to do so.
    func testChromiumReportsADialog() throws {
        guard let browser = HeadlessChromium.detect() else { throw RequiredTools.missing("no Chromium on PATH") }
        let directory = TemporaryDirectory("dialog")
        defer { directory.remove() }
        let page = directory.write("page.html", text: "<!DOCTYPE html><html><body><p>x</p><script>alert('probe')</script></body></html>")
        XCTAssertEqual(try browser.load(page).dialogs, ["alert: probe"])
    }

    // MARK: Templates and the study file

    /// A `--templates` folder whose page prints every value the templates receive, as text and in
    /// double- and single-quoted attributes, without a Content-Security-Policy; the title, name and
    /// adapters come from a study file. Nothing but the templates' markup reaches the page.
    func testCustomTemplatesAndStudyFileStayInert() throws {
        let directory = TemporaryDirectory("hostile-templates")
        defer { directory.remove() }
        var adapters: [(String, JSONValue)] = []
        for index in 0..<3 {
            let path = Self.writeAdapter(into: directory, folder: Hostile.folders[index], baseModel: Hostile.baseModels[index],
                                         modules: Hostile.modules, seed: UInt64(60 + index))
            adapters.append((Hostile.tasks[index], .string(path)))
        }
        directory.write(Hostile.scoresFile, text: Self.scoresText(tasks: Hostile.tasks))
        let study = directory.write(Hostile.studyFile, text: JSONWriter.string(.object([
            ("adapters", .object(adapters)), ("name", .string(Hostile.name)), ("scores", .string(Hostile.scoresFile)),
            ("formats", .array([.string("html")])), ("out", .string("out")),
        ])))
        let attributes = #" title="{{.}}" data-single='{{.}}'"#
        directory.write("templates/report.mustache", text: """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"/><title>{{title}}</title></head>
            <body>
            <h1 title="{{title}}" data-single='{{title}}'>{{title}}</h1>
            <p title="{{subtitle}}">{{subtitle}}</p>
            <ul>{{#summary}}<li\(attributes)>{{.}}</li>{{/summary}}</ul>
            {{#sections}}{{> section}}{{/sections}}
            <p title="{{provenance.commandLine}}">{{provenance.commandLine}} {{provenance.version}} {{provenance.date}}</p>
            <ul>{{#provenance.inputs}}<li title="{{role}} {{path}}" data-single='{{path}}'>{{role}} {{path}} {{bytes}} {{sha256}}</li>\
            {{/provenance.inputs}}</ul>
            <ul>{{#downloads}}<li title="{{label}}">{{label}}</li>{{/downloads}}</ul>
            </body></html>
            """)
        directory.write("templates/section.mustache", text: """
            <section id="{{id}}" title="{{title}}"><h2>{{title}}</h2>{{#blocks}}{{> block}}{{/blocks}}</section>
            """)
        directory.write("templates/figure.mustache", text: """
            <div id="figure-{{name}}" title="{{title}}" data-single='{{caption}}'>{{name}} {{title}} {{caption}} {{width}}\
            {{#links}}<span title="{{href}}">{{label}}</span>{{/links}}</div>
            """)
        let result = try runTVGeo(["report", "--quiet", "--config", study, "--templates", "templates"], in: directory.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        let html = try String(contentsOfFile: directory.path + "/out/report.html", encoding: .utf8)
        let page = MarkupScan(html)
        XCTAssertEqual(page.problems, [])
        let markup: Set<String> = ["html", "head", "meta", "title", "body", "h1", "h2", "h3", "p", "ul", "li", "section", "div", "span",
                                   "dl", "dt", "dd", "figure", "table", "caption", "thead", "tbody", "tr", "th", "td", "strong", "a",
                                   "figcaption", "math"]
        let elements = page.elementNames.filter { !$0.hasPrefix("m") || $0 == "meta" || $0 == "math" }
        XCTAssertTrue(elements.isSubset(of: markup), "\(elements.subtracting(markup))")
        XCTAssertEqual(page.attributeNames.filter { $0.hasPrefix("on") || $0 == "src" }, [])
        XCTAssertNil(PageXML.problem(html))
        XCTAssertTrue(page.text.contains("Task-vector geometry of " + Hostile.name), "the default title names the study")
        for string in Self.shownStrings.dropFirst() + [Hostile.name, Hostile.scoresFile, Hostile.studyFile] {
            XCTAssertTrue(page.text.contains(string), string.debugDescription)
        }
        let titles = page.elements.compactMap { $0.attributes.first { $0.name == "title" }?.value }
        XCTAssertTrue(titles.contains("Task-vector geometry of " + Hostile.name), "attribute values stay whole")
        guard let browser = HeadlessChromium.detect() else { throw RequiredTools.missing("no Chromium on PATH: the custom page was not rendered") }
        let load = try browser.load(directory.path + "/out/report.html")
        XCTAssertEqual(load.dialogs, [])
        XCTAssertEqual(load.consoleErrors, [])
        XCTAssertEqual(load.failedRequests, [])
        XCTAssertEqual(load.networkRequests, [])
        XCTAssertTrue(load.dom.contains(DOMText.serialized("Task-vector geometry of " + Hostile.name)))
    }

    // MARK: The console

    /// Names printed on the console (summary, tables, merge lines, warnings) cannot drive the
    /// terminal: an escape sequence in a task or module name is printed as `\u{1b}…`.
    func testConsoleEscapesControlCharacters() throws {
        let directory = TemporaryDirectory("hostile-console")
        defer { directory.remove() }
        let task = "a\u{1B}]0;pwned\u{07}x", module = "m\u{1B}[2J\r"
        let paths = (0..<3).map { Self.writeAdapter(into: directory, folder: "t\($0)", baseModel: "b\u{1B}[31m\($0)", modules: ["query", module],
                                                    seed: UInt64(90 + $0)) }
        let named = [task + "=" + paths[0], "b=" + paths[1], "c=" + paths[2]]
        var outcomes: [(String, CommandOutcome)] = []
        outcomes.append(("report", try runTVGeo(["report"] + named + ["--formats", "json", "--out", "report"], in: directory.path)))
        outcomes.append(("analyze", try runTVGeo(["analyze"] + named + ["--out", "analysis"], in: directory.path)))
        outcomes.append(("merge", try runTVGeo(["merge", named[0], named[1], "--out", "merged"], in: directory.path)))
        for (command, outcome) in outcomes {
            XCTAssertEqual(outcome.status, 0, "\(command): \(outcome.stderr)")
            for (stream, text) in [("stdout", outcome.stdout), ("stderr", outcome.stderr)] {
                XCTAssertFalse(text.unicodeScalars.contains { $0 != "\n" && $0.properties.generalCategory == .control },
                               "\(command) \(stream): \(text.debugDescription)")
            }
            XCTAssertTrue(outcome.stdout.contains("a\\u{1b}]0;pwned\\u{7}x"), "\(command): \(outcome.stdout)")
        }
        XCTAssertTrue(outcomes[0].1.stdout.contains("m\\u{1b}[2J\\r"), outcomes[0].1.stdout)
    }

    // MARK: Module names that share a file name

    /// Modules whose names differ only where file names write `_` (or only in case) get files of
    /// their own, `-2` and `-3` on the later ones, and their own figures in the page.
    func testModulesThatShareAFileNameAreToldApart() throws {
        let directory = TemporaryDirectory("module-files")
        defer { directory.remove() }
        let modules = ["(a)", "<a>", "_A_"]
        let paths = (0..<3).map { Self.writeAdapter(into: directory, folder: "t\($0)", baseModel: "bert", modules: modules, seed: UInt64(80 + $0)) }
        let result = try runTVGeo(["report", "--quiet"] + paths + ["--formats", "html,svg,csv,tex", "--out", "out"], in: directory.path)
        XCTAssertEqual(result.status, 0, result.stderr)
        let figures = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/out/figures")
        XCTAssertEqual(Set(figures.filter { $0.hasPrefix("heatmap-cosine-") }),
                       ["heatmap-cosine-_a_.svg", "heatmap-cosine-_a_-2.svg", "heatmap-cosine-_A_-3.svg"])
        let tables = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/out/tables")
        XCTAssertEqual(tables.filter { $0.hasPrefix("distances-l2-") }.count, 3 * 2)
        let html = try String(contentsOfFile: directory.path + "/out/report.html", encoding: .utf8)
        let ids = MarkupScan(html).elements.compactMap { $0.attributes.first { $0.name == "id" }?.value }
        XCTAssertEqual(Set(ids).count, ids.count, "ids are unique in the page")
        for (module, stem) in zip(modules, ["_a_", "_a_-2", "_A_-3"]) {
            let svg = try String(contentsOfFile: directory.path + "/out/figures/heatmap-cosine-\(stem).svg", encoding: .utf8)
            let escaped = module.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            XCTAssertTrue(svg.contains("<title>Cosine distance · \(escaped)</title>"), stem)
        }
        let analyze = try runTVGeo(["analyze", "--quiet"] + paths + ["--figures", "svg", "--out", "analysis"], in: directory.path)
        XCTAssertEqual(analyze.status, 0, analyze.stderr)
        let written = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/analysis")
        XCTAssertEqual(Set(written.filter { $0.hasPrefix("distances-l2-") }),
                       ["distances-l2-_a_.csv", "distances-l2-_a_-2.csv", "distances-l2-_A_-3.csv"])
        let drawn = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/analysis/figures")
        XCTAssertEqual(Set(drawn.filter { $0.hasPrefix("heatmap-l2-") }), ["heatmap-l2-_a_.svg", "heatmap-l2-_a_-2.svg", "heatmap-l2-_A_-3.svg"])
    }
}

// MARK: - Reading the outputs

/// The markup of a page as tvgeo writes it, by a scan that stops at nothing: every `<` must open
/// a tag (`<name attr="v" attr='v' …>`, `</name>`), a comment or the doctype, and character data
/// is decoded (the five entities tvgeo's escapes write and numeric references).
struct MarkupScan {
    struct Element {
        var name: String
        var attributes: [(name: String, value: String)]
    }
    var elements: [Element] = []
    /// A `<` that opens no well-formed tag, with what follows it.
    var problems: [String] = []
    /// The character data and attribute values, decoded, in order (attribute values each on their own line).
    var text = ""

    var elementNames: Set<String> { Set(elements.map(\.name)) }
    var attributeNames: Set<String> { Set(elements.flatMap { $0.attributes.map(\.name) }) }

    init(_ html: String) {
        let characters = Array(html)
        var index = 0
        var data = ""
        func isNameCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "-" || c == "_" || c == ":" || c == "." }
        while index < characters.count {
            guard characters[index] == "<" else {
                data.append(characters[index])
                index += 1
                continue
            }
            text += Self.decoded(data)
            data = ""
            let rest = String(characters[index..<min(characters.count, index + 9)])
            if rest.hasPrefix("<!--") || rest.uppercased().hasPrefix("<!DOCTYPE") {
                let end = rest.hasPrefix("<!--") ? Array("-->") : Array(">")
                var close = index + 2
                while close + end.count <= characters.count && Array(characters[close..<(close + end.count)]) != end { close += 1 }
                index = close + end.count
                continue
            }
            var cursor = index + 1
            if cursor < characters.count && characters[cursor] == "/" { cursor += 1 }
            var name = ""
            while cursor < characters.count && isNameCharacter(characters[cursor]) {
                name.append(characters[cursor])
                cursor += 1
            }
            var attributes: [(name: String, value: String)] = []
            var wellFormed = !name.isEmpty
            while wellFormed && cursor < characters.count {
                while cursor < characters.count && characters[cursor].isWhitespace { cursor += 1 }
                guard cursor < characters.count else { break }
                if characters[cursor] == ">" { break }
                if characters[cursor] == "/" && cursor + 1 < characters.count && characters[cursor + 1] == ">" {
                    cursor += 1
                    break
                }
                var attribute = ""
                while cursor < characters.count && isNameCharacter(characters[cursor]) {
                    attribute.append(characters[cursor])
                    cursor += 1
                }
                guard !attribute.isEmpty else { wellFormed = false; break }
                var value = ""
                if cursor < characters.count && characters[cursor] == "=" {
                    cursor += 1
                    guard cursor < characters.count, characters[cursor] == "\"" || characters[cursor] == "'" else { wellFormed = false; break }
                    let quote = characters[cursor]
                    cursor += 1
                    while cursor < characters.count && characters[cursor] != quote && characters[cursor] != "<" {
                        value.append(characters[cursor])
                        cursor += 1
                    }
                    guard cursor < characters.count, characters[cursor] == quote else { wellFormed = false; break }
                    cursor += 1
                }
                attributes.append((attribute.lowercased(), Self.decoded(value)))
                text += "\n" + Self.decoded(value) + "\n"
            }
            guard wellFormed, cursor < characters.count, characters[cursor] == ">" else {
                problems.append(String(characters[index..<min(characters.count, index + 60)]))
                index += 1
                continue
            }
            if characters[index + 1] != "/" { elements.append(Element(name: name.lowercased(), attributes: attributes)) }
            index = cursor + 1
        }
        text += Self.decoded(data)
    }

    static func decoded(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            guard let semicolon = after.firstIndex(of: ";"), after.distance(from: after.startIndex, to: semicolon) <= 8 else {
                out += "&"
                rest = after
                continue
            }
            let entity = after[..<semicolon]
            let named = ["lt": "<", "gt": ">", "amp": "&", "quot": "\"", "apos": "'"]
            if let character = named[String(entity)] {
                out += character
            } else if entity.hasPrefix("#x"), let value = UInt32(entity.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(value) {
                out.unicodeScalars.append(scalar)
            } else if entity.hasPrefix("#"), let value = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(value) {
                out.unicodeScalars.append(scalar)
            } else {
                out += "&" + entity + ";"
            }
            rest = after[after.index(after: semicolon)...]
        }
        return out + rest
    }
}

/// An XML parse of a page or SVG file: element and attribute names, references, text per element.
final class PageXML: NSObject, XMLParserDelegate {
    var failure: String?
    var elementNames: Set<String> = []
    var attributeNames: Set<String> = []
    var references: [String] = []
    /// Non-blank character data, by the element that holds it.
    var textByElement: [String: [String]] = [:]
    private var open: [String] = []
    private var pending = ""

    static func parse(_ text: String) -> PageXML {
        let scan = PageXML()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = scan
        if !parser.parse() { scan.failure = "\(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)" }
        return scan
    }

    /// Why `text` is not well-formed XML, or nil.
    static func problem(_ text: String) -> String? { parse(text).failure }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        flush()
        open.append(name)
        elementNames.insert(name)
        for (key, value) in attributes {
            attributeNames.insert(key)
            if key == "href" || key.hasSuffix(":href") || key == "src" { references.append(value) }
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        flush()
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { pending += string }

    private func flush() {
        if !pending.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, let element = open.last {
            textByElement[element, default: []].append(pending)
        }
        pending = ""
    }
}

/// RFC 4180 fields, quoted fields spanning lines included.
enum CSVFields {
    static func parse(_ text: String) throws -> [[String]] {
        var records: [[String]] = [], fields: [String] = [], field = ""
        var quoted = false, atStart = true
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar?
        while let scalar = pending ?? scalars.next() {
            pending = nil
            if quoted {
                if scalar == "\"" {
                    let next = scalars.next()
                    if next == "\"" { field += "\"" } else { quoted = false; pending = next }
                } else {
                    field.unicodeScalars.append(scalar)
                }
            } else if scalar == "\"" && atStart {
                quoted = true
                atStart = false
            } else if scalar == "," {
                fields.append(field); field = ""; atStart = true
            } else if scalar == "\n" {
                fields.append(field); records.append(fields); fields = []; field = ""; atStart = true
            } else {
                field.unicodeScalars.append(scalar)
                atStart = false
            }
        }
        if !field.isEmpty || !fields.isEmpty { fields.append(field); records.append(fields) }
        return records
    }
}

/// Text as Chromium's `outerHTML` serialises it: `&`, `<`, `>` and no-break spaces as entities.
enum DOMText {
    static func serialized(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\u{00A0}", with: "&nbsp;")
    }
}
