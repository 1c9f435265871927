@testable import Charts
import XCTest

final class PagedDocumentTests: XCTestCase {
    let renderer = CairoRenderer()
    static let directory = GalleryTests.directory

    /// Text marks of a page other than the footer, in page coordinates.
    private func bodyText(_ page: Scene, margin: Double = 56) -> [TextMark] {
        page.textMarks.filter { $0.position.y < page.size.height - margin }
    }

    /// The checks every laid-out page must pass: no overlapping text, nothing off the page, body
    /// text inside the margins, and no heading as the last thing on a page that has more after it.
    private func assertPagesAreClean(_ pages: [Scene], document: PagedDocument, name: String,
                                     file: StaticString = #filePath, line: UInt = #line) {
        let margin = document.usableMargin
        let content = Rect(x: margin, y: margin, width: document.contentWidth, height: document.usablePageSize.height - 2 * margin)
        for (index, page) in pages.enumerated() {
            XCTAssertEqual(page.size, document.usablePageSize, file: file, line: line)
            assertTextIsClear(page, name: "\(name) page \(index + 1)", file: file, line: line)
            assertMarksInsidePage(page, name: "\(name) page \(index + 1)", file: file, line: line)
            let body = bodyText(page, margin: margin)
            for mark in body {
                let bounds = TextMeasurer.shared.bounds(of: mark)
                XCTAssertTrue(content.contains(bounds, tolerance: 0.01),
                              "\(name) page \(index + 1): \"\(mark.text)\" at \(bounds) is outside the margins",
                              file: file, line: line)
            }
            if index < pages.count - 1, let last = body.max(by: { $0.position.y < $1.position.y }) {
                let isHeading = last.style.weight == .bold && last.style.size >= document.typography.subheadingSize
                XCTAssertFalse(isHeading, "\(name) page \(index + 1) ends with the heading \"\(last.text)\"", file: file, line: line)
            }
        }
    }

    func testSampleDocumentIsCleanOnEveryPage() {
        let document = ChartGallery.sampleDocument()
        let pages = document.pages()
        XCTAssertEqual(pages.count, 4)
        assertPagesAreClean(pages, document: document, name: "sample")
        XCTAssertTrue(pages[0].textMarks.contains { $0.text == "1 / 4" })
        XCTAssertTrue(pages[3].textMarks.contains { $0.text == "4 / 4" })
        XCTAssertTrue(pages.allSatisfy { $0.textMarks.contains { $0.text == "tvgeo sample report — synthetic data" } })
        XCTAssertTrue(pages[2].textMarks.contains { $0.text == "Correlations" }, "a heading with newPage starts a page")
    }

    func testMultiPagePDFIsDeterministicEmbedsFontsAndHoldsEveryBlock() throws {
        let document = ChartGallery.sampleDocument()
        let pages = document.pages()
        let pdf = try renderer.renderPDF(pages: pages, title: document.title)
        XCTAssertEqual(pdf, try CairoRenderer().renderPDF(pages: document.pages(), title: document.title), "same document, same bytes")
        let text = String(decoding: pdf, as: UTF8.self)
        XCTAssertFalse(text.contains("CreationDate"))
        XCTAssertTrue(text.contains("/Creator (tvgeo)"))
        try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
        let url = Self.directory.appendingPathComponent("sample-document.pdf")
        try pdf.write(to: url, options: .atomic)

        let info = try ExternalTool.run(try ExternalTool.require("pdfinfo"), [url.path])
        XCTAssertTrue(info.output.contains("Pages:           \(pages.count)"), info.output)
        XCTAssertTrue(info.output.contains("Page size:       595.276 x 841.89 pts (A4)"), info.output)
        XCTAssertTrue(info.output.contains("tvgeo sample report"), "title in the metadata")
        XCTAssertTrue(info.error.isEmpty, info.error)

        let fonts = try ExternalTool.run(try ExternalTool.require("pdffonts"), [url.path])
        let rows = fonts.output.split(separator: "\n").dropFirst(2)
        XCTAssertFalse(rows.isEmpty, fonts.output)
        for row in rows {
            // name, type (1–2 words), encoding, emb, sub, uni, object, id: emb is the 5th field from the end.
            let fields = row.split(separator: " ")
            XCTAssertEqual(fields[fields.count - 5], "yes", "font not embedded: \(row)")
        }

        let extracted = try ExternalTool.run(try ExternalTool.require("pdftotext"), ["-layout", url.path, "-"]).output
        let joined = extracted.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        for expected in ["Task-vector geometry of ten adapters", "A sample report drawn from synthetic data", "Checkpoint hash",
                         "roberta-base", "Summary", "Spearman ρ =", "TweetEval", "Figure 2. Cosine distances",
                         "Pairs of tasks", "Figure 1. Grassmann", "Correlations", "Correlation with transfer gain",
                         "(continued)", "Table 2. Both distances", "Method", "cola–mrpc", "GLUE tasks sit close together"] {
            XCTAssertTrue(joined.contains(expected), "\"\(expected)\" is not in the PDF text")
        }
        // The hash is broken over lines but every piece is there; pdftotext drops the thin spaces of "1 / 4".
        let squeezed = extracted.filter { !$0.isWhitespace }
        for n in 1...pages.count { XCTAssertTrue(squeezed.contains("\(n)/\(pages.count)"), "page number \(n)") }
        XCTAssertTrue(squeezed.contains("sha256:9f2c4e7a1b3d5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"))
    }

    func testRenderPDFRefusesNoPagesAndBadSizesAndKeepsEachPageSize() throws {
        XCTAssertThrowsError(try renderer.renderPDF(pages: [], title: nil)) { XCTAssertEqual($0 as? RenderError, .noPages) }
        XCTAssertThrowsError(try renderer.renderPDF(pages: [Scene(size: Size(width: .nan, height: 10))], title: nil))
        let pdf = try renderer.renderPDF(pages: [Scene(size: Size(width: 200, height: 300)), Scene(size: Size(width: 400, height: 250))],
                                         title: "sizes")
        let directory = try temporaryDirectory("pages")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("sizes.pdf")
        try pdf.write(to: url)
        let info = try ExternalTool.run(try ExternalTool.require("pdfinfo"), ["-f", "1", "-l", "2", url.path]).output
        XCTAssertTrue(info.contains("Page    1 size:  200 x 300 pts"), info)
        XCTAssertTrue(info.contains("Page    2 size:  400 x 250 pts"), info)
        XCTAssertTrue(info.contains("Pages:           2"), info)
    }

    func testEmptyDocumentsAndRepeatedBreaksGiveNoBlankPages() {
        XCTAssertEqual(PagedDocument(blocks: []).pages().count, 1)
        XCTAssertEqual(PagedDocument(blocks: [.pageBreak, .pageBreak]).pages().count, 1)
        let pages = PagedDocument(blocks: [.pageBreak, .paragraph("one"), .pageBreak, .pageBreak, .paragraph("two"), .pageBreak]).pages()
        XCTAssertEqual(pages.count, 2)
        XCTAssertTrue(pages[1].textMarks.contains { $0.text == "two" })
    }

    func testHeadingsMoveToTheNextPageRatherThanEndOne() {
        // Fill a page almost to the bottom, then a heading and a paragraph.
        let filler = Array(repeating: DocumentBlock.paragraph("A line of text."), count: 200)
        for count in 30...45 {
            let document = PagedDocument(blocks: Array(filler.prefix(count))
                                                 + [.heading("Results"), .paragraph(String(repeating: "word ", count: 80))])
            let pages = document.pages()
            assertPagesAreClean(pages, document: document, name: "\(count) fillers")
        }
    }

    func testLongTokensWrapInsideTheContentWidth() {
        let hash = String(repeating: "0123456789abcdef", count: 20)
        let path = "/" + (0..<40).map { "directory\($0)" }.joined(separator: "/")
        let document = PagedDocument(blocks: [
            .keyValues([("hash", hash), ("path", path), (String(repeating: "k", count: 120), "short")]),
            .paragraph(hash + " " + path),
            .heading(hash),
            .bullets([path]),
            .figure(Scene(size: Size(width: 100, height: 50)), caption: hash),
        ])
        let pages = document.pages()
        assertPagesAreClean(pages, document: document, name: "long tokens")
        let text = pages.flatMap(\.textMarks).map(\.text).joined().replacingOccurrences(of: "\n", with: "")
        XCTAssertEqual(text.components(separatedBy: hash).count - 1, 4, "the hash is drawn whole in the list, paragraph, heading and caption")
        XCTAssertTrue(text.contains(path))
    }

    func testFiguresScaleDownButNeverUp() {
        let big = Scene(size: Size(width: 1000, height: 400),
                        marks: [.text(TextMark("big", at: Point(x: 10, y: 10), style: TextStyle(size: 10), vertical: .top))])
        let tall = Scene(size: Size(width: 200, height: 3000))
        let small = Scene(size: Size(width: 100, height: 50))
        let document = PagedDocument(blocks: [.figure(big, caption: "big"), .figure(tall, caption: "tall"), .figure(small),
                                              .figure(Scene(size: Size(width: 0, height: 5)))])
        let pages = document.pages()
        var scales: [Double] = []
        for page in pages {
            for mark in page.marks {
                if case .clipped(_, let inner) = mark, case .group(let transform, _) = inner.first { scales.append(transform.scale) }
            }
        }
        XCTAssertEqual(scales.count, 3, "the zero-size figure is left out")
        XCTAssertEqual(scales[0], document.contentWidth / 1000, accuracy: 1e-9)
        XCTAssertLessThan(scales[1] * 3000, document.usablePageSize.height - 2 * document.usableMargin)
        XCTAssertEqual(scales[2], 1)
        let bigText = pages[0].textMarks.first { $0.text == "big" }!
        XCTAssertEqual(bigText.style.size, 10 * scales[0], accuracy: 1e-9)
        assertPagesAreClean(pages, document: document, name: "figures")
    }

    func testLongTablesSplitBetweenRowsAndRepeatTheHeader() {
        let rows = (0..<120).map { TableData.Row(header: "row \($0)", cells: [TableData.Cell("\($0 * 2)")]) }
        let table = TableData(title: "Long", caption: "own caption", cornerHeader: "Name", columnHeaders: ["Value"], rows: rows)
        let document = PagedDocument(blocks: [.paragraph("Intro."), .table(table, caption: "The caption.")])
        let pages = document.pages()
        XCTAssertGreaterThanOrEqual(pages.count, 3)
        assertPagesAreClean(pages, document: document, name: "long table")
        let texts = pages.map { $0.textMarks.map(\.text) }
        for page in texts { XCTAssertTrue(page.contains("Value"), "every part repeats the header") }
        XCTAssertTrue(texts[1].contains("Long (continued)"))
        let all = texts.flatMap { $0 }
        for r in 0..<120 { XCTAssertEqual(all.filter { $0 == "row \(r)" }.count, 1, "row \(r) drawn once") }
        XCTAssertEqual(all.filter { $0 == "The caption." }.count, 1)
        XCTAssertTrue(texts.last!.contains("The caption."))
        XCTAssertFalse(all.contains("own caption"))
    }

    func testRunsKeepTheirEmphasisAndSitSideBySide() {
        let layout = RichTextLayout(style: TextStyle(size: 10), measurer: .shared)
        let lines = layout.lines(["Spearman ", .bold("ρ = 0.48"), ", n = 28 and ", .italic("more"), "."], maxWidth: 1000)
        XCTAssertEqual(lines.count, 1)
        let segments = lines[0].segments
        XCTAssertEqual(segments.map(\.text), ["Spearman", "ρ = 0.48", ", n = 28 and", "more", "."])
        XCTAssertEqual(segments.map(\.style.weight), [.regular, .bold, .regular, .regular, .regular])
        XCTAssertTrue(segments[3].style.italic)
        for (a, b) in zip(segments, segments.dropFirst()) {
            XCTAssertGreaterThanOrEqual(b.x, a.x + TextMeasurer.shared.measure(a.text, style: a.style).width - 1e-9)
        }
        // ", n" follows the bold run without a space; "ρ" follows "Spearman" after one.
        let boldEnd = segments[1].x + TextMeasurer.shared.measure(segments[1].text, style: segments[1].style).width
        XCTAssertEqual(segments[2].x, boldEnd, accuracy: 1e-9)
        XCTAssertGreaterThan(segments[1].x, TextMeasurer.shared.measure("Spearman", style: TextStyle(size: 10)).width + 1)
        XCTAssertTrue(layout.lines([], maxWidth: 100).isEmpty)
        XCTAssertEqual(layout.lines(["a\n\nb"], maxWidth: 100).count, 3)
        let narrow = layout.lines(["the quick brown fox jumps over the lazy dog"], maxWidth: 60)
        XCTAssertGreaterThan(narrow.count, 2)
        XCTAssertTrue(narrow.allSatisfy { $0.width <= 60 })
    }

    func testWrapCanBreakLongWordsAtSeparators() {
        let style = TextStyle(size: 8)
        let measurer = TextMeasurer()
        let path = "/data/experiments/roberta-base/rank-16/seed-0/adapters/final"
        let wrapped = measurer.wrap(path, style: style, maxWidth: 80, breakingLongWords: true)
        let lines = wrapped.split(separator: "\n").map(String.init)
        XCTAssertGreaterThan(lines.count, 2)
        XCTAssertEqual(lines.joined(), path)
        for line in lines { XCTAssertLessThanOrEqual(measurer.measure(line, style: style).width, 80) }
        XCTAssertTrue(lines.dropLast().allSatisfy { "/-_.".contains($0.last!) }, "\(lines)")
        XCTAssertTrue(measurer.wrap(path, style: style, maxWidth: 80).hasSuffix("…"), "without the option long words are truncated")
    }
}

final class GroupMarkTests: XCTestCase {
    func testGroupsTransformTextAndDrawLikeTheOriginal() throws {
        let inner = RendererTests.sampleScene()
        var outer = Scene(size: Size(width: 200, height: 200))
        outer.add(inner.placed(at: Point(x: 20, y: 30), scale: 0.5))
        let original = inner.textMarks, placed = outer.textMarks
        XCTAssertEqual(original.count, placed.count)
        for (a, b) in zip(original, placed) {
            let expected = Transform(dx: 20, dy: 30, scale: 0.5).apply(TextMeasurer.shared.bounds(of: a))
            let actual = TextMeasurer.shared.bounds(of: b)
            XCTAssertEqual(actual.minX, expected.minX, accuracy: 0.05)
            XCTAssertEqual(actual.maxX, expected.maxX, accuracy: 0.05)
            XCTAssertEqual(actual.minY, expected.minY, accuracy: 0.05)
            XCTAssertEqual(actual.maxY, expected.maxY, accuracy: 0.05)
        }
        // Drawn at half size at (20, 30), the inner scene matches the inner scene drawn on its own at 1×
        // with a 2× page: compare the group's 2× render with the original's 1× render.
        let renderer = CairoRenderer()
        var shifted = Scene(size: Size(width: 60, height: 40), background: nil)
        shifted.add(inner.placed(at: .zero, scale: 0.5))
        let a = try RasterImage(png: renderer.render(shifted, format: .png(scale: 2), figureID: "g"))
        let b = try RasterImage(png: renderer.render(inner, format: .png(scale: 1), figureID: "g"))
        let difference = try XCTUnwrap(a.difference(from: b, tolerance: 24))
        XCTAssertLessThan(difference.differingFraction, 0.01)
        for format in [OutputFormat.svg, .pdf] { _ = try renderer.render(outer, format: format, figureID: "g") }
    }

    func testDegenerateTransformsDrawNothingAndDoNotFail() throws {
        var scene = Scene(size: Size(width: 50, height: 50))
        for scale in [0, -1, Double.nan, .infinity] {
            scene.add(.group(Transform(dx: 1, dy: 1, scale: scale), [.rect(Rect(x: 0, y: 0, width: 10, height: 10), .fill(.black))]))
        }
        let image = try RasterImage(png: CairoRenderer().render(scene, format: .png(scale: 1), figureID: "d"))
        XCTAssertTrue(image.pixels.allSatisfy { $0 == 0xFFFF_FFFF })
        XCTAssertEqual(Transform(dx: 1, dy: 2, scale: 3).concatenating(Transform(dx: 4, dy: 5, scale: 0.5)).apply(Point(x: 2, y: 2)),
                       Transform(dx: 1, dy: 2, scale: 3).apply(Transform(dx: 4, dy: 5, scale: 0.5).apply(Point(x: 2, y: 2))))
    }
}
