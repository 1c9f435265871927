import Charts
import Foundation
import FoundationXML
import XCTest

/// Checks that bytes form a well-formed SVG document and returns every `id` in it.
@discardableResult
func assertValidSVG(_ data: Data, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
    let document = try XMLDocument(data: data, options: [])
    let root = try XCTUnwrap(document.rootElement(), file: file, line: line)
    XCTAssertEqual(root.name, "svg", file: file, line: line)
    var ids: [String] = []
    func walk(_ node: XMLNode) {
        // attribute(forName:) misses unprefixed attributes under a default namespace on Linux.
        if let element = node as? XMLElement, let id = element.attributes?.first(where: { $0.name == "id" })?.stringValue {
            ids.append(id)
        }
        for child in node.children ?? [] { walk(child) }
    }
    walk(root)
    return ids
}

/// Checks PDF bytes with pdfinfo (page size in points) and pdftoppm (renders at 60 dpi). Skips
/// when poppler-utils is missing.
func assertValidPDF(_ data: Data, size: Size, file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertTrue(data.starts(with: Data("%PDF-".utf8)), "not a PDF header", file: file, line: line)
    let pdfinfo = try ExternalTool.require("pdfinfo")
    let pdftoppm = try ExternalTool.require("pdftoppm")
    let directory = try temporaryDirectory("pdf")
    defer { try? FileManager.default.removeItem(at: directory) }
    let pdf = directory.appendingPathComponent("figure.pdf")
    try data.write(to: pdf)
    let info = try ExternalTool.run(pdfinfo, [pdf.path])
    XCTAssertEqual(info.status, 0, "pdfinfo failed: \(info.error)", file: file, line: line)
    XCTAssertTrue(info.output.contains("Pages:           1"), info.output, file: file, line: line)
    XCTAssertFalse(info.output.contains("CreationDate"), "the PDF carries a creation date", file: file, line: line)
    let expectedSize = "Page size:       \(formatPoints(size.width)) x \(formatPoints(size.height)) pts"
    XCTAssertTrue(info.output.contains(expectedSize), "expected \(expectedSize) in\n\(info.output)", file: file, line: line)
    XCTAssertTrue(info.error.isEmpty, "pdfinfo complained: \(info.error)", file: file, line: line)
    let render = try ExternalTool.run(pdftoppm, ["-png", "-r", "60", pdf.path, directory.appendingPathComponent("page").path])
    XCTAssertEqual(render.status, 0, "pdftoppm failed: \(render.error)", file: file, line: line)
    XCTAssertTrue(render.error.isEmpty, "pdftoppm complained: \(render.error)", file: file, line: line)
    let pages = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("page") && $0.hasSuffix(".png") }
    XCTAssertEqual(pages.count, 1, file: file, line: line)
}

/// pdfinfo prints whole points without decimals and others with up to 3.
private func formatPoints(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
}

/// Checks PNG bytes decode to the expected pixel size.
func assertValidPNG(_ data: Data, size: Size, scale: Double, file: StaticString = #filePath, line: UInt = #line) throws {
    let image = try RasterImage(png: data)
    XCTAssertEqual(image.width, Int((size.width * scale).rounded(.up)), file: file, line: line)
    XCTAssertEqual(image.height, Int((size.height * scale).rounded(.up)), file: file, line: line)
}
