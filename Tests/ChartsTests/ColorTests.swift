@testable import Charts
import XCTest

final class ColorMapTests: XCTestCase {
    func testViridisPublishedValues() {
        let map = ColorMap.viridis
        XCTAssertEqual(map.colors.count, 256)
        XCTAssertEqual(map.color(at: 0)?.hexString, "#440154")
        XCTAssertEqual(map.color(at: 0.5)?.hexString, "#21918c")
        XCTAssertEqual(map.color(at: 1)?.hexString, "#fde725")
        XCTAssertEqual(map.color(at: 0.25)?.hexString, "#3b528b")
        XCTAssertEqual(map.color(at: 0.75)?.hexString, "#5ec962")
    }

    func testMagmaPublishedValues() {
        let map = ColorMap.magma
        XCTAssertEqual(map.colors.count, 256)
        XCTAssertEqual(map.color(at: 0)?.hexString, "#000004")
        XCTAssertEqual(map.color(at: 0.5)?.hexString, "#b73779")
        XCTAssertEqual(map.color(at: 1)?.hexString, "#fcfdbf")
    }

    func testSequentialMapsGetLighterMonotonically() {
        for map in [ColorMap.viridis, ColorMap.magma] {
            let luminance = stride(from: 0.0, through: 1, by: 0.05).map { map.color(at: $0)!.relativeLuminance }
            XCTAssertEqual(luminance, luminance.sorted(), map.name)
        }
    }

    func testDivergingMapIsNeutralAtTheCentreAndBlueToRed() {
        let map = ColorMap.blueRed
        XCTAssertTrue(map.isDiverging)
        XCTAssertEqual(map.color(at: 0.5)?.hexString, "#f7f7f7")
        let low = map.color(at: 0)!, high = map.color(at: 1)!
        XCTAssertGreaterThan(low.blue, low.red)
        XCTAssertGreaterThan(high.red, high.blue)
        XCTAssertEqual(map.color(at: 0)?.hexString, "#053061")
        XCTAssertEqual(map.color(at: 1)?.hexString, "#67001f")
    }

    func testOutOfRangeIsClampedAndNaNIsMissing() {
        XCTAssertEqual(ColorMap.viridis.color(at: -3), ColorMap.viridis.color(at: 0))
        XCTAssertEqual(ColorMap.viridis.color(at: .infinity), ColorMap.viridis.color(at: 1))
        XCTAssertEqual(ColorMap.viridis.color(at: -.infinity), ColorMap.viridis.color(at: 0))
        XCTAssertNil(ColorMap.viridis.color(at: .nan))
        XCTAssertNil(ColorMap.blueRed.color(at: .nan))
    }

    func testReversedAndGradientStops() {
        XCTAssertEqual(ColorMap.viridis.reversed().color(at: 0)?.hexString, "#fde725")
        let stops = ColorMap.magma.gradientStops(count: 5)
        XCTAssertEqual(stops.map(\.offset), [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(stops.last?.color.hexString, "#fcfdbf")
        XCTAssertEqual(ColorMap.magma.gradientStops(count: 0).count, 2)
    }

    func testColourHelpers() {
        XCTAssertEqual(Color(hex: 0x21918C).hexString, "#21918c")
        XCTAssertEqual(Color.black.contrastRatio(with: .white), 21, accuracy: 1e-9)
        XCTAssertEqual(Color(red: .nan, green: 2, blue: -1).hexString, "#00ff00")
        XCTAssertEqual(Color.black.interpolated(to: .white, fraction: 0.5).hexString, "#808080")
    }

    func testPalettes() {
        XCTAssertEqual(Palette.okabeIto.colors.count, 8)
        XCTAssertEqual(Palette.tableau10.colors.count, 10)
        XCTAssertEqual(Palette.tableau10.color(10), Palette.tableau10.color(0))
        XCTAssertEqual(Palette.tableau10.dash(3), [])
        XCTAssertFalse(Palette.tableau10.dash(10).isEmpty)
        XCTAssertNotEqual(Palette.tableau10.dash(10), Palette.tableau10.dash(20))
        XCTAssertEqual(Palette.automatic(seriesCount: 4), .okabeIto)
        XCTAssertEqual(Palette.automatic(seriesCount: 12), .tableau10)
        XCTAssertEqual(Palette.okabeIto.color(-1), Palette.okabeIto.color(7))
    }
}
