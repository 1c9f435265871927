import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TVGeoTestSupport
import XCTest

/// The SVG figures of the example report, in files and inlined in the HTML: text is `<text>`
/// (no glyph outlines), ids are unique on the page, heatmap cells and map points carry tooltips,
/// the bytes do not change between runs, and the page stays small.
final class SVGTextTests: XCTestCase {
    /// Element names, `<text>`/`<tspan>` contents and `<title>` contents of one SVG.
    final class Scan: NSObject, XMLParserDelegate {
        var names: [String] = []
        var texts: [String] = []
        var titles: [String] = []
        private var open: [String] = []
        private var buffer = ""

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            flush()
            names.append(name)
            open.append(name)
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            flush()
            open.removeLast()
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { buffer += string }
        private func flush() {
            defer { buffer = "" }
            guard !buffer.isEmpty, let element = open.last else { return }
            if element == "text" || element == "tspan" { texts.append(buffer) }
            if element == "title" { titles.append(buffer) }
        }
    }

    func scan(_ path: String) throws -> Scan {
        let parser = try XCTUnwrap(XMLParser(contentsOf: URL(fileURLWithPath: path)))
        let scan = Scan()
        parser.delegate = scan
        XCTAssertTrue(parser.parse(), "\(path): \(parser.parserError.map { "\($0)" } ?? "")")
        return scan
    }

    func svgFiles(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder + "/figures").filter { $0.hasSuffix(".svg") }.sorted()
    }

    func testEverySVGFigureHasTextAndNoGlyphOutlines() throws {
        let (folder, outcome) = ReportCommandTests.fullReport
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let files = try svgFiles(folder)
        XCTAssertGreaterThan(files.count, 50)
        for file in files {
            let svg = try scan(folder + "/figures/" + file)
            XCTAssertGreaterThan(svg.texts.count, 3, "\(file): labels are <text>")
            XCTAssertTrue(Set(svg.names).isDisjoint(with: ["symbol", "use", "image"]), "\(file): no glyph outlines")
            let raw = try String(contentsOfFile: folder + "/figures/" + file, encoding: .utf8)
            XCTAssertFalse(raw.contains("glyph"), file)
            XCTAssertTrue(raw.contains("font-family=\"'DejaVu Sans', sans-serif\""), file)
            if file.hasPrefix("heatmap-") || file.hasPrefix("pca-") || file.hasPrefix("mds-") {
                for task in ReportCommandTests.tasks { XCTAssertTrue(svg.texts.contains(task), "\(file): \(task) as text") }
            }
        }
    }

    /// Heatmap cells say which pair, figure, quantity and value they show; map points which task.
    func testHeatmapCellsAndMapPointsHaveTooltips() throws {
        let (folder, _) = ReportCommandTests.fullReport
        let heatmap = try scan(folder + "/figures/heatmap-cosine-query.svg")
        let cells = heatmap.titles.filter { $0.contains(" × ") }
        XCTAssertEqual(cells.count, 64)
        XCTAssertTrue(cells.contains { $0.hasPrefix("cola × mrpc\nCosine distance · query\n1 − cos = ") }, "\(cells.prefix(3))")
        let map = try scan(folder + "/figures/pca-cosine-query.svg")
        let points = map.titles.filter { $0.contains("\nPC1 (") }
        XCTAssertEqual(points.count, 8)
        for task in ReportCommandTests.tasks { XCTAssertTrue(points.contains { $0.hasPrefix(task + "\n") }, task) }
    }

    /// The page inlines the same SVG: text, no glyph definitions, every id once, under 1.5 MB.
    func testHTMLIsSmallWithTextAndUniqueIds() throws {
        let (folder, _) = ReportCommandTests.fullReport
        let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/report.html")
        let size = try XCTUnwrap(attributes[.size] as? Int)
        XCTAssertLessThanOrEqual(size, 1_500_000, "report.html is \(size) bytes")
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        XCTAssertGreaterThan(html.components(separatedBy: "<text ").count, 1000)
        XCTAssertFalse(html.contains("<symbol"))
        let ids = html.matches(of: /\sid="([^"]*)"/).map { String($0.output.1) }
        XCTAssertGreaterThan(ids.count, 50)
        let repeated = Dictionary(grouping: ids, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        XCTAssertEqual(repeated, [], "ids used twice on the page")
        for reference in html.matches(of: /url\(#([^)]*)\)/).map({ String($0.output.1) }) {
            XCTAssertTrue(ids.contains(reference), "dangling url(#\(reference))")
        }
    }

    /// A second run writes the same SVG bytes.
    func testSVGFiguresAreTheSameBytesOnASecondRun() throws {
        let (folder, _) = ReportCommandTests.fullReport
        let directory = TemporaryDirectory("svg-again")
        defer { directory.remove() }
        let again = directory.path + "/again"
        let outcome = try runTVGeo(["report", "-q"] + ReportCommandTests.adapters
                                   + ["--scores", ReportCommandTests.example + "/scores.csv", "--formats", "svg", "--out", again],
                                   in: directory.path)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let files = try svgFiles(folder)
        XCTAssertEqual(try svgFiles(again), files)
        for file in files {
            XCTAssertEqual(FileManager.default.contents(atPath: again + "/figures/" + file),
                           FileManager.default.contents(atPath: folder + "/figures/" + file), file)
        }
    }
}
