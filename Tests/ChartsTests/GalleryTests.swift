@testable import Charts
import XCTest

/// Writes the whole gallery (every chart, both paper widths, all three formats) and checks it:
/// valid files, text clear of other text and inside the page, the same bytes on a second run.
/// The files stay in `output/gallery/` (git-ignored) for a person to look at.
final class GalleryTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("output/gallery")

    func testGalleryFiguresAreClear() {
        for width in [FigureWidth.singleColumn, FigureWidth.doubleColumn] {
            let figures = ChartGallery.figures(width: width)
            XCTAssertEqual(figures.count, 8)
            for figure in figures {
                XCTAssertEqual(figure.scene.size.width, width, figure.name)
                assertTextIsClear(figure.scene, name: figure.name)
                // 8–10 pt text; heatmap cell labels and annotations may shrink to fit their cells, and a
                // wide table at single-column width to 7 pt.
                let smallest = figure.name.hasPrefix("heatmap") ? Theme.paper.minimumAnnotationSize : (figure.name.hasPrefix("table") ? 7 : 8)
                for mark in figure.scene.textMarks {
                    XCTAssertTrue((smallest...10).contains(mark.style.size), "\(figure.name): \(mark.text) is \(mark.style.size) pt")
                }
            }
        }
    }

    func testGalleryWritesValidDeterministicFiles() throws {
        let first = try ChartGallery.write(to: Self.directory)
        XCTAssertEqual(first.count, 8 * 2 * 3 + 1)
        let firstBytes = try first.map { try Data(contentsOf: $0) }
        let scratch = try temporaryDirectory("gallery")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let second = try ChartGallery.write(to: scratch, formats: [.svg, .pdf])
        for url in second where url.pathExtension != "html" {
            let original = Self.directory.appendingPathComponent(url.lastPathComponent)
            XCTAssertEqual(try Data(contentsOf: url), try Data(contentsOf: original), "\(url.lastPathComponent) is not reproducible")
        }
        var allIDs: [String] = []
        // A missing poppler skips the PDF checks only (after every other file is checked), or fails under CI.
        var pdfSkip: Error?
        for (url, bytes) in zip(first, firstBytes) {
            let name = url.deletingPathExtension().lastPathComponent
            switch url.pathExtension {
            case "svg":
                let ids = try assertValidSVG(bytes)
                XCTAssertTrue(ids.allSatisfy { $0.hasPrefix(name + "-") }, name)
                allIDs += ids
            case "pdf":
                let scene = ChartGallery.figures(width: name.hasSuffix("-240") ? 240 : 500).first { $0.name == name }!.scene
                do {
                    try assertValidPDF(bytes, size: scene.size)
                } catch let skip as XCTSkip {
                    pdfSkip = skip
                }
            case "png":
                let image = try RasterImage(png: bytes)
                XCTAssertEqual(image.width, name.hasSuffix("-240") ? 480 : 1000)
            default:
                XCTAssertEqual(url.lastPathComponent, "index.html")
            }
        }
        XCTAssertEqual(Set(allIDs).count, allIDs.count, "ids are unique across the whole HTML page")
        if let pdfSkip { throw pdfSkip }
    }
}
