import AnalysisCore
import Charts
import Diagnostics
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Reporting
import Study
import TVGeoTestSupport
import XCTest

/// Checks that a page is well-formed XML (the report is polyglot HTML5), collecting every
/// `src` and `href` attribute and every element name.
final class PageScanner: NSObject, XMLParserDelegate {
    var references: [String] = []
    var elements: [String] = []
    var failure: String?

    static func scan(_ html: String) -> PageScanner {
        let scanner = PageScanner()
        // Fed as a stream, so libxml2 parses it in chunks: a whole page of more than 10 MB in one
        // piece exceeds its lookup limit (XML_MAX_LOOKUP_LIMIT) though every token is small.
        let parser = XMLParser(stream: InputStream(data: Data(html.utf8)))
        parser.delegate = scanner
        if !parser.parse() { scanner.failure = "\(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)" }
        return scanner
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(name)
        for (key, value) in attributes where key == "src" || key == "href" || key.hasSuffix(":href") { references.append(value) }
    }
}

final class HTMLReportTests: XCTestCase {
    func testPageScannerRejectsMalformedMarkup() {
        XCTAssertNotNil(PageScanner.scan("<a><b></a>").failure)
        XCTAssertNil(PageScanner.scan("<a><b/></a>").failure)
        XCTAssertEqual(PageScanner.scan("<a><b/></a>").elements, ["a", "b"])
    }

    func render(_ document: ReportDocument, templates: ReportTemplateSet? = nil) throws -> String {
        let svg = try document.figures.reduce(into: [String: Data]()) { result, figure in
            result[figure.name] = try CairoRenderer().render(figure.scene, format: .svg,
                                                             figureID: figure.name.replacingOccurrences(of: ".", with: "_"))
        }
        return try HTMLReport.render(document, templates: templates ?? ReportTemplateSet.load(), svg: svg,
                                     files: ["correlations": ["tables/correlations.tex"]])
    }

    func testSelfContainedWellFormedPage() throws {
        let html = try render(ExampleStudy.document())
        let page = PageScanner.scan(html)
        XCTAssertNil(page.failure, "the page parses as XML")
        XCTAssertTrue(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                                    + "style-src 'unsafe-inline'; img-src data:\"/>"))
        for reference in page.references {
            XCTAssertFalse(reference.hasPrefix("http:") || reference.hasPrefix("https:") || reference.hasPrefix("//") || reference.hasPrefix("file:"),
                           "external reference \(reference)")
        }
        XCTAssertTrue(page.references.contains("tables/correlations.tex"))
        XCTAssertFalse(page.elements.contains("script"))
        XCTAssertFalse(page.elements.contains("link"))
        XCTAssertFalse(page.elements.contains("img"))
        XCTAssertEqual(page.elements.filter { $0 == "svg" }.count, ExampleStudy.document().figures.count, "every figure is inline SVG")
        XCTAssertEqual(page.elements.filter { $0 == "math" }.count, 4 + 2 * DistanceMetric.allCases.count,
                       "methods (statistics, the task vector and each metric) plus one definition per metric section")
        XCTAssertTrue(html.contains("<strong>0.48 (0.37)</strong>"))
    }

    /// Every hostile task name comes out as text: no element, attribute or script from it.
    func testHostileTaskNamesAreEscaped() throws {
        let (analysis, findings) = ExampleStudy.renamed(ExampleStudy.hostileNames)
        let html = try render(ExampleStudy.document(analysis: analysis, findings: findings))
        let page = PageScanner.scan(html)
        XCTAssertNil(page.failure)
        XCTAssertFalse(page.elements.contains("script"))
        XCTAssertFalse(page.elements.contains("img"))
        XCTAssertFalse(html.contains("<script>alert(1)</script>"))
        XCTAssertFalse(html.contains("<img src=x"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
        XCTAssertTrue(html.contains("\\input{/etc/passwd}"), "shown as text")
        for reference in page.references {
            XCTAssertTrue(["tables/correlations.tex", "metrics.json"].contains(reference) || reference.hasPrefix("#"),
                          "no reference from a task name: \(reference)")
        }
    }

    func testTemplateOverrideFallsBackPerFile() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        directory.write("figure.mustache", text: "<div class=\"mine\">{{name}}</div>\n")
        let templates = try ReportTemplateSet.load(override: directory.path)
        let html = try render(ExampleStudy.document(), templates: templates)
        XCTAssertTrue(html.contains("<div class=\"mine\">heatmap-cosine-query</div>"))
        XCTAssertTrue(html.contains("<h2>Summary</h2>"), "the default report and section templates are still used")
        XCTAssertFalse(html.contains("<svg"))
    }

    func testTemplateErrors() {
        XCTAssertThrowsError(try ReportTemplateSet.load(override: "/nonexistent/templates")) { error in
            XCTAssertEqual((error as! ToolError).exitCode, 66)
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let broken = directory.write("table.mustache", text: "{{#rows}}never closed\n")
        XCTAssertThrowsError(try ReportTemplateSet.load(override: directory.path)) { error in
            let error = error as! ToolError
            XCTAssertEqual(error.exitCode, 65)
            XCTAssertEqual(error.message, broken + ": line 1, column 1: unclosed section \"rows\"")
        }
    }

    /// A template that does not parse is named with the line and column of the tag at fault and
    /// the problem in words (not the parser's type names).
    func testTemplateSyntaxErrorsNameLineColumnAndProblem() {
        let badName = "tag not closed after its name: expected }} (a name holds ASCII letters, digits and . _ - ? *)"
        let cases: [(text: String, message: String)] = [
            ("<section>\n  <h2>{{title}}</h2>\n  <div>{{#figures}}\n  {{>figure}}\n</section>\n",
             "line 3, column 8: unclosed section \"figures\""),
            ("{{#a}}\n{{#b}}\n{{/a}}\n", "line 3, column 1: closing tag for \"a\", but the open section is \"b\" (line 2, column 1)"),
            ("{{#a}}{{/a}}\n  {{/b}}\n", "line 2, column 3: closing tag for \"b\", but no section is open"),
            ("text\n{{^empty}}\r\n{{#x}}{{/x}}\r\n", "line 2, column 1: unclosed section \"empty\""),
            ("{{=<% %>=}}\n<%#rows%>{{#ignored}}\n", "line 2, column 1: unclosed section \"rows\""),
            ("{{! a comment {{#not-a-section}} }}\n{{#s}}\n", "line 2, column 1: unclosed section \"s\""),
            ("ok\n  x {{name\n", "line 2, column 5: a tag opened here is never closed (no }} after it)"),
            ("{{foo bar}}\n", "line 1, column 7: " + badName),
            ("{{#r\u{0435}ws}}{{/r\u{0435}ws}}\n", "line 1, column 5: " + badName),
        ]
        for (text, message) in cases {
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            let file = directory.write("section.mustache", text: text)
            XCTAssertThrowsError(try ReportTemplateSet.load(override: directory.path), text.debugDescription) { error in
                let error = error as! ToolError
                XCTAssertEqual(error.exitCode, 65, text.debugDescription)
                XCTAssertEqual(error.message, file + ": " + message, text.debugDescription)
            }
        }
    }

    /// A file of the --templates folder that tvgeo does not use is a warning, with the closest
    /// name when it looks like a typo; the templates it does use still load.
    func testUnknownTemplateFilesWarn() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        directory.write("figure.mustache", text: "<div>{{name}}</div>\n")
        directory.write("secton.mustache", text: "x\n")
        directory.write("style.scss", text: "x\n")
        directory.write("t\u{0430}ble.mustache", text: "x\n")
        directory.write("notes.txt", text: "x\n")
        directory.write(".DS_Store", text: "x")
        try FileManager.default.createDirectory(atPath: directory.path + "/images", withIntermediateDirectories: true)
        let templates = try ReportTemplateSet.load(override: directory.path + "/")
        let known = "known: report, section, block, figure, table (.mustache), style.css"
        XCTAssertEqual(templates.warnings.map(\.text), [
            directory.path + "/notes.txt is not a template tvgeo uses; " + known,
            directory.path + "/secton.mustache is not a template tvgeo uses (did you mean section.mustache?); " + known,
            directory.path + "/style.scss is not a template tvgeo uses (did you mean style.css?); " + known,
            directory.path + "/t\\u{0430}ble.mustache is not a template tvgeo uses (did you mean table.mustache?); " + known,
        ])
        XCTAssertEqual(try ReportTemplateSet.load().warnings, [], "the defaults alone: no warning")
    }
}
