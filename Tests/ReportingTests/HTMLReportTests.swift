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
        let parser = XMLParser(data: Data(html.utf8))
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
        XCTAssertEqual(page.elements.filter { $0 == "math" }.count, 9 + 5, "methods plus one definition per metric section")
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
            XCTAssertTrue(error.message.hasPrefix(broken), error.message)
        }
    }
}
