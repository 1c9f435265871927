import AnalysisCore
import Charts
import Foundation
@testable import Reporting
import Study
import TVGeoTestSupport
import XCTest

/// Where the report's unescaped inserts come from, and what the writers drop or guard so that a
/// name cannot break their files. End-to-end checks of the same: `HostileInputTests` (CLITests).
final class EscapingSourcesTests: XCTestCase {
    /// The only `{{{…}}}` (or `{{& …}}`) inserts of the default templates are the style sheet, the
    /// inline SVG and the MathML: every other value is HTML-escaped by Mustache.
    func testTheDefaultTemplatesInsertUnescapedOnlyStyleSVGAndMathML() throws {
        let folder = repositoryRoot + "/templates/html"
        var unescaped: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file.hasSuffix(".mustache") {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            XCTAssertFalse(text.contains("{{="), "\(file): the delimiters stay {{ }}, so this scan sees every tag")
            XCTAssertFalse(text.contains("{{%"), "\(file): no pragma (CONTENT_TYPE would turn escaping off)")
            var rest = Substring(text)
            while let open = rest.range(of: "{{") {
                let after = rest[open.upperBound...]
                let triple = after.hasPrefix("{")
                guard let close = after.range(of: triple ? "}}}" : "}}") else { break }
                var tag = after[..<close.lowerBound]
                if triple { tag = tag.dropFirst() }
                if triple || tag.hasPrefix("&") {
                    unescaped.insert(tag.drop { $0 == "&" }.trimmingCharacters(in: .whitespaces))
                }
                rest = after[close.upperBound...]
            }
        }
        XCTAssertEqual(unescaped, ["style", "svg", "mathML"])
    }

    /// MathML is tvgeo's: the document of a study with hostile task names has the same formulas,
    /// byte for byte, as the example's.
    func testMathMLDoesNotDependOnTheInputs() {
        func formulas(_ document: ReportDocument) -> [String] {
            document.sections.flatMap(\.blocks).flatMap { block -> [String] in
                if case .definitions(let items) = block { return items.map(\.mathML) }
                return []
            }
        }
        let (analysis, findings) = ExampleStudy.renamed(ExampleStudy.hostileNames)
        let hostile = formulas(ExampleStudy.document(analysis: analysis, findings: findings))
        XCTAssertEqual(hostile, formulas(ExampleStudy.document()))
        XCTAssertGreaterThan(hostile.count, 5)
    }

    /// The inline SVG (`SVGSceneWriter`) of a study with hostile task names: every figure parses,
    /// holds only the writer's own elements and references, and shows the names as text.
    func testInlineSVGOfHostileNamesHoldsOnlyTheWritersMarkup() throws {
        let (analysis, findings) = ExampleStudy.renamed(ExampleStudy.hostileNames)
        let document = ExampleStudy.document(analysis: analysis, findings: findings)
        let own: Set<String> = ["svg", "title", "g", "rect", "path", "text", "tspan", "clipPath", "linearGradient", "stop"]
        var shown = ""
        for figure in document.figures {
            let svg = try CairoRenderer().render(figure.scene, format: .svg, figureID: "f")
            let page = PageScanner.scan(SVGEmbedding.inlineMarkup(svg))
            XCTAssertNil(page.failure, figure.name)
            XCTAssertTrue(Set(page.elements).isSubset(of: own), "\(figure.name): \(Set(page.elements).subtracting(own))")
            let text = String(decoding: svg, as: UTF8.self)
            XCTAssertEqual(page.references, [], figure.name)
            for match in text.matches(of: /url\(([^)]*)\)/) { XCTAssertTrue(match.output.1.hasPrefix("#f-"), "\(figure.name): \(match.output.0)") }
            shown += text
        }
        for name in ["&lt;script&gt;alert(1)&lt;/script&gt;", "\\input{/etc/passwd}", "a&amp;b", "'single'"] {
            XCTAssertTrue(shown.contains(">" + name), "\(name) starts the content of an element")
        }
        // LaTeX math in table headers comes from the descriptors, keyed by metric ids only.
        let symbols = Set(DistanceMetric.allCases.map(\.descriptor.latexSymbol))
        for table in document.tables {
            XCTAssertTrue(Set(table.latexHeaders.keys).isSubset(of: DistanceMetric.allCases.map(\.id)), table.name)
            XCTAssertTrue(Set(table.latexHeaders.values).isSubset(of: symbols), table.name)
        }
    }

    /// A name holding a control character or a noncharacter leaves the page well-formed XML: the
    /// characters XML forbids are dropped from every template value, tvgeo's markup untouched.
    func testCharactersXMLForbidsAreDroppedFromThePage() throws {
        var names = ExampleStudy.hostileNames
        names[0] = "bell\u{07}\u{FFFE}<b>"
        names[1] = "form\u{0C}feed\r\nline"
        let (analysis, findings) = ExampleStudy.renamed(names)
        let document = ExampleStudy.document(analysis: analysis, findings: findings)
        let html = try HTMLReport.render(document, templates: ReportTemplateSet.load(), svg: [:], files: [:])
        XCTAssertNil(PageScanner.scan(html).failure)
        XCTAssertTrue(html.contains("bell&lt;b&gt;"))
        XCTAssertTrue(html.contains("formfeed\r\nline"), "tab, line feed and carriage return stay")
        XCTAssertFalse(html.unicodeScalars.contains { $0 == "\u{07}" || $0 == "\u{0C}" || $0 == "\u{FFFE}" })

        let context = HTMLReport.withoutForbiddenCharacters(["svg": "<svg>\u{07}</svg>", "list": ["a\u{07}b", ["c\u{FFFF}d"]], "n": 3])
            as! [String: Any]
        XCTAssertEqual(context["svg"] as? String, "<svg>\u{07}</svg>", "markup keys are passed through")
        let list = try XCTUnwrap(context["list"] as? [Any])
        XCTAssertEqual(list.first as? String, "ab")
        XCTAssertEqual((list.last as? [Any])?.first as? String, "cd")
        XCTAssertEqual(context["n"] as? Int, 3)
    }

    /// After `\\` or `\midrule` LaTeX reads a leading `[` as an optional argument (`[0pt]` would
    /// vanish, `[x]` stops pdflatex) and a leading `*` as a star: the first cell of a line gets
    /// `{}` in front. Control characters and noncharacters are dropped, tabs become spaces.
    func testLaTeXLinesNeverStartWithABracketOrAStar() {
        let table = TableData(title: "title\u{07} with\na break", cornerHeader: "[corner]", columnHeaders: ["[col]"],
                              rows: [TableData.Row(header: "[0pt]", cells: [TableData.Cell("[x]")]),
                                     TableData.Row(header: " *star", cells: [TableData.Cell("*")]),
                                     TableData.Row(header: "plain[", cells: [TableData.Cell("1")])])
        let lines = LaTeXTable.text(table).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "% title with a break")
        XCTAssertTrue(lines.contains("{}[corner] & [col] \\\\"), "\(lines)")
        XCTAssertTrue(lines.contains("{}[0pt] & [x] \\\\"), "\(lines)")
        XCTAssertTrue(lines.contains("{} *star & * \\\\"), "\(lines)")
        XCTAssertTrue(lines.contains("plain[ & 1 \\\\"), "\(lines)")
        XCTAssertEqual(LaTeXTable.escape("a\u{07}b\u{FFFE}c\u{85}d\te\u{7F}"), "abc d e")
    }

    /// Modules whose file names would be the same get `-2`, `-3`, … (ignoring case), never the
    /// name another module has as it is.
    func testModuleFileNamesAreUnique() {
        let names = ["(a)", "<a>", "_A_", "_a_-2", "query"]
        let components = OutputNaming.components(names)
        XCTAssertEqual(components, ["(a)": "_a_", "<a>": "_a_-3", "_A_": "_A_-4", "_a_-2": "_a_-2", "query": "query"])
        XCTAssertEqual(Set(components.values.map { $0.lowercased() }).count, names.count)
        XCTAssertEqual(OutputNaming.components(["encoder/q", "decoder/q"]), ["encoder/q": "encoder_q", "decoder/q": "decoder_q"])
    }
}
