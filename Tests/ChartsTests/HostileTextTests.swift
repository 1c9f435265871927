import Charts
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// Text a user controls (task and module names end up in titles, labels and legends) drawn in
/// every format: markup in an SVG title is text, characters XML forbids are dropped there, and a
/// noncharacter, which Cairo refuses in PDF text, no longer fails the file.
final class HostileTextTests: XCTestCase {
    /// U+FDD0 is a noncharacter too; Swift refuses it in a literal.
    static let fdd0 = String(Character(Unicode.Scalar(0xFDD0)!))
    static let hostile = "</svg><script>alert(1)</script>]]>&\"'\u{07}\u{FFFE}\u{FFFF}" + fdd0 + "end"

    static func scene() -> Scene {
        var scene = Scene(size: Size(width: 200, height: 60), title: hostile)
        scene.add(.text(TextMark(hostile, at: Point(x: 10, y: 30), style: TextStyle(size: 8))))
        return scene
    }

    final class Titles: NSObject, XMLParserDelegate {
        var elements: [String] = []
        var title = ""
        private var inTitle = false
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append(name)
            inTitle = name == "title"
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { inTitle = false }
        func parser(_ parser: XMLParser, foundCharacters string: String) { if inTitle { title += string } }
    }

    func testSVGTitleIsTextAndWellFormed() throws {
        let svg = try CairoRenderer().render(Self.scene(), format: .svg, figureID: "hostile")
        let parser = XMLParser(data: svg)
        let titles = Titles()
        parser.delegate = titles
        XCTAssertTrue(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        XCTAssertFalse(titles.elements.contains("script"))
        XCTAssertEqual(titles.title, "</svg><script>alert(1)</script>]]>&\"'" + Self.fdd0 + "end", "U+FDD0 is legal XML; the others are dropped")
        XCTAssertFalse(String(decoding: svg, as: UTF8.self).contains("<script"))
    }

    func testANoncharacterDoesNotFailThePDF() throws {
        let renderer = CairoRenderer()
        let pdf = try renderer.render(Self.scene(), format: .pdf, figureID: "hostile")
        XCTAssertTrue(pdf.starts(with: Array("%PDF-".utf8)))
        let document = try renderer.renderPDF(pages: [Self.scene()], title: Self.hostile)
        XCTAssertTrue(document.starts(with: Array("%PDF-".utf8)))
        XCTAssertNoThrow(try renderer.render(Self.scene(), format: .png, figureID: "hostile"))
    }
}
