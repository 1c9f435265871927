@testable import Charts
import XCTest

final class TableTests: XCTestCase {
    func testMeanAndStdCellsWithTheBestOfEachRowInBold() {
        let table = TableData.meanAndStd(
            rowHeaders: ["query", "value"], columnHeaders: ["cosine", "CKA", "Grassmann"],
            means: [[0.5, 0.7, 0.7], [0.1, .nan, -0.9]], stds: [[0.05, 0.1, .nan], [0.01]], decimals: 2, cornerHeader: "Module")
        XCTAssertEqual(table.columnCount, 3)
        XCTAssertEqual(table.rows[0].cells.map(\.text), ["0.50 (0.05)", "0.70 (0.10)", "0.70 (–)"])
        XCTAssertEqual(table.rows[0].cells.map(\.emphasis), [[], .bold, .bold], "ties are all bold")
        XCTAssertEqual(table.rows[1].cells.map(\.text), ["0.10 (0.01)", "–", "−0.90 (–)"])
        XCTAssertEqual(table.rows[1].cells.map(\.emphasis), [.bold, [], []])
        XCTAssertEqual(table.rows[1].cells[0].value, 0.1)

        let magnitude = TableData.meanAndStd(rowHeaders: ["value"], columnHeaders: ["a", "b"], means: [[0.1, -0.9]], stds: [],
                                             best: .highestMagnitude)
        XCTAssertEqual(magnitude.rows[0].cells.map(\.emphasis), [[], .bold])
        let lowest = TableData.meanAndStd(rowHeaders: ["r"], columnHeaders: ["a", "b"], means: [[0.1, -0.9]], stds: [], best: .lowest)
        XCTAssertEqual(lowest.rows[0].cells.map(\.emphasis), [[], .bold])
        let none = TableData.meanAndStd(rowHeaders: ["r"], columnHeaders: ["a"], means: [[.nan]], stds: [])
        XCTAssertEqual(none.rows[0].cells.map(\.emphasis), [[]])
    }

    func testFigureDrawsBoldCellsBoldAndFitsTheWidth() throws {
        let table = GallerySample.standard.correlationTable
        for width in [FigureWidth.singleColumn, FigureWidth.doubleColumn] {
            let scene = TableFigure(table).scene(width: width)
            let bold = scene.textMarks.filter { $0.style.weight == .bold }.map { $0.text.replacingOccurrences(of: "\n", with: " ") }
            let boldCells = table.rows.flatMap(\.cells).filter { $0.emphasis.contains(.bold) }.map(\.text)
            for text in boldCells { XCTAssertTrue(bold.contains(text), "\(text) should be bold") }
            XCTAssertTrue(bold.contains("Module"))
            assertTextIsClear(scene, name: "table \(width)")
            _ = try assertValidSVG(CairoRenderer().render(scene, format: .svg, figureID: "t"))
        }
    }

    func testWideTablesBreakShrinkThenTruncate() {
        let headers = (0..<8).map { "metric number \($0)" }
        let table = TableData(cornerHeader: "Module", columnHeaders: headers, rows: [
            TableData.Row(header: "a module with a really very long name indeed", cells: headers.map { _ in .init("0.123 (0.045)") }),
        ])
        let scene = TableFigure(table).scene(width: FigureWidth.singleColumn)
        XCTAssertTrue(scene.textMarks.allSatisfy { $0.style.size >= Theme.paper.minimumLabelSize })
        XCTAssertTrue(scene.textMarks.contains { $0.text == "metric\nnumber\n0" }, "headers break at spaces")
        XCTAssertTrue(scene.textMarks.contains { $0.text == "0.123\n(0.045)" }, "cells break at spaces")
        XCTAssertGreaterThanOrEqual(scene.size.width, FigureWidth.singleColumn)
        assertTextIsClear(scene, name: "wide table")
        // At double width the same table fits at full size with one-line headers.
        let wide = TableFigure(table).scene(width: 700)
        XCTAssertEqual(wide.size.width, 700)
        XCTAssertTrue(wide.textMarks.allSatisfy { $0.style.size == Theme.paper.tickLabelSize })
        assertTextIsClear(wide, name: "wide table at 700 pt")
    }

    func testEmptyTable() throws {
        let scene = TableFigure(TableData(columnHeaders: [], rows: [])).scene()
        _ = try assertValidSVG(CairoRenderer().render(scene, format: .svg, figureID: "t"))
    }
}
