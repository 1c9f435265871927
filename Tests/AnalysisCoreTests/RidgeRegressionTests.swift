import AnalysisCore
import XCTest

/// The ridge, Holm and t-test helpers on cases with known answers (the NumPy/SciPy comparison on
/// the example is `PredictionGoldenTests`).
final class RidgeRegressionTests: XCTestCase {
    func testRecoversAnExactLinearRelationAsLambdaVanishes() {
        // y = 3 + 2·x0 − x1 exactly; a constant third feature is dropped.
        let x: [[Double]] = [[0, 1, 5], [1, 0, 5], [2, 3, 5], [3, 1, 5], [4, 4, 5], [5, 2, 5]]
        let y = x.map { 3 + 2 * $0[0] - $0[1] }
        let model = RidgeModel(rows: x, targets: y, lambda: 1e-10)
        XCTAssertEqual(model.kept, [true, true, false])
        for (row, target) in zip(x, y) { XCTAssertEqual(model.predict(row), target, accuracy: 1e-8) }
        XCTAssertEqual(model.predict([10, -1, 123]), 3 + 20 + 1, accuracy: 1e-7, "the dropped feature has no weight")
    }

    func testOneFeatureClosedForm() {
        // One standardised feature z: β = Σzy / (Σz² + λ) = n·cov/σ / (n + λ); the intercept is ȳ.
        let x: [[Double]] = [[1], [2], [4], [7]], y: [Double] = [1, 3, 2, 6]
        let lambda = 2.0
        let model = RidgeModel(rows: x, targets: y, lambda: lambda)
        let mx = 3.5, my = 3.0
        let sx = (x.map { ($0[0] - mx) * ($0[0] - mx) }.reduce(0, +) / 4).squareRoot()
        let szy = zip(x, y).map { ($0[0] - mx) / sx * ($1 - my) }.reduce(0, +)
        let beta = szy / (4 + lambda)
        XCTAssertEqual(model.intercept, my)
        XCTAssertEqual(model.predict([7]), my + beta * (7 - mx) / sx, accuracy: 1e-14)
    }

    func testHolmAdjustment() {
        let adjusted = Correlation.holmAdjusted([0.01, 0.04, 0.03, 0.5])
        // sorted 0.01·4, 0.03·3, 0.04·2, 0.5·1 → 0.04, 0.09, 0.09 (monotone), 0.5.
        for (value, want) in zip(adjusted, [0.04, 0.09, 0.09, 0.5]) { XCTAssertEqual(value, want, accuracy: 1e-15) }
        XCTAssertEqual(Correlation.holmAdjusted([0.6, 0.7]), [1, 1])
    }

    func testOneSampleTTest() throws {
        // t = mean/(s/√n) with 3 degrees of freedom; scipy.stats.ttest_1samp([1, 2, 3, 2], 0): t = 4.898979485566356,
        // p = 0.016276603459428555.
        let values = [1.0, 2, 3, 2], mean = 2.0
        let p = try XCTUnwrap(Correlation.oneSampleTTestP(values))
        let s = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3).squareRoot()
        XCTAssertEqual(mean / (s / 2), 4.898979485566356, accuracy: 1e-12)
        XCTAssertEqual(p, 0.016276603459428555, accuracy: 1e-12)
        XCTAssertNil(Correlation.oneSampleTTestP([0.3, 0.3, 0.3]), "no spread")
        XCTAssertNil(Correlation.oneSampleTTestP([0.3]))
    }
}
