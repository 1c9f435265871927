@testable import Charts
import XCTest

final class LayerProfileTests: XCTestCase {
    private func polylines(_ scene: Scene, color: Color) -> [Path] {
        scene.marks.compactMap { mark in
            if case .path(let path, let style) = mark, style.stroke == color, style.fill == nil, path.elements.count > 2 { return path }
            return nil
        }
    }

    func testBandIsMeanPlusMinusSampleStandardDeviation() {
        let profile = LayerProfile(series: [
            LayerSeries(name: "a", values: [1, 2, .nan]), LayerSeries(name: "b", values: [3, 2, 5]),
        ], band: .meanAndStandardDeviation)
        let rows = profile.bandRows
        XCTAssertEqual(rows.map(\.x), [0, 1, 2])
        XCTAssertEqual(rows[0].center, 2, accuracy: 1e-12)
        XCTAssertEqual(rows[0].upper, 2 + 2.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(rows[1].lower, 2, accuracy: 1e-12)
        XCTAssertEqual(rows[2].center, 5, accuracy: 1e-12, "NaN is left out; one value has spread 0")
        XCTAssertEqual(rows[2].upper, 5, accuracy: 1e-12)
        var range = profile
        range.band = .meanAndRange
        XCTAssertEqual(range.bandRows[0].lower, 1)
        XCTAssertEqual(range.bandRows[0].upper, 3)
    }

    func testNonFiniteValuesBreakLines() {
        var profile = LayerProfile(series: [LayerSeries(name: "gappy", values: [0.1, 0.2, 0.25, .nan, 0.4, 0.5, 0.55, .infinity, 0.7, 0.8, 0.9])])
        profile.palette = Palette(name: "one", colors: [Color(hex: 0x123456)])
        let scene = profile.scene()
        XCTAssertEqual(polylines(scene, color: Color(hex: 0x123456)).count, 3)
        assertTextIsClear(scene)
    }

    func testDirectLabelsWhenThereIsRoomOtherwiseALegend() {
        let short = (0..<4).map { i in LayerSeries(name: "pair \(i)", values: (0..<12).map { Double($0) * 0.05 + Double(i) * 0.2 }) }
        let labelled = LayerProfile(series: short, yTitle: "distance").scene(width: FigureWidth.doubleColumn)
        let labels = labelled.textMarks.filter { $0.text.hasPrefix("pair ") }
        XCTAssertEqual(labels.count, 4, "direct labels replace the legend")
        XCTAssertTrue(labels.allSatisfy { $0.horizontal == .start })
        assertTextIsClear(labelled)

        var long = short
        long[0].name = "an extremely long series name that cannot fit in the margin"
        let legend = LayerProfile(series: long).scene(width: FigureWidth.singleColumn)
        XCTAssertEqual(legend.textMarks.filter { $0.text.hasPrefix("pair ") }.count, 3, "legend lists the other series")
        assertTextIsClear(legend)
    }

    func testTwelveSeriesStayDistinguishable() {
        let series = (0..<12).map { i in LayerSeries(name: "task \(i)", values: (0..<12).map { sin(Double($0 + i)) }) }
        var profile = LayerProfile(series: series, band: .meanAndStandardDeviation)
        profile.directLabels = false
        let scene = profile.scene()
        let styles = scene.marks.compactMap { mark -> Style? in
            if case .path(_, let style) = mark, style.fill == nil, style.lineWidth == Theme.paper.seriesLineWidth { return style }
            return nil
        }
        let looks = Set(styles.map { "\($0.stroke!.hexString) \($0.dash)" })
        XCTAssertGreaterThanOrEqual(looks.count, 12, "every series has its own colour and dash combination")
        XCTAssertTrue(scene.textMarks.contains { $0.text == "mean ± 1 SD" })
        assertTextIsClear(scene)
    }

    func testExplicitBandAndEmptyProfile() throws {
        let profile = LayerProfile(series: [LayerSeries(name: "x", values: [1, 2], layers: [3, 7])],
                                   band: .explicit(layers: [3, 7], center: [1, 2], lower: [0.5, 1], upper: [1.5, 3], label: "IQR"))
        let scene = profile.scene()
        XCTAssertTrue(scene.textMarks.contains { $0.text == "IQR" })
        _ = try assertValidSVG(CairoRenderer().render(scene, format: .svg, figureID: "p"))
        let empty = LayerProfile(series: []).scene()
        XCTAssertTrue(empty.textMarks.contains { $0.text == "No data" })
        _ = try assertValidSVG(CairoRenderer().render(empty, format: .svg, figureID: "p"))
        let allNaN = LayerProfile(series: [LayerSeries(name: "n", values: [.nan, .nan])], band: .meanAndStandardDeviation).scene()
        _ = try assertValidSVG(CairoRenderer().render(allNaN, format: .svg, figureID: "p"))
    }
}
