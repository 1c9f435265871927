import AnalysisCore
import TVGeoTestSupport
import XCTest

/// The metric descriptors are complete, and every kernel fills exactly the metrics that apply to
/// its kind of fine-tuning: a metric added to the catalogue without its kernel fails here.
final class MetricCatalogueTests: XCTestCase {
    func testDescriptorsAreCompleteAndIdsDistinct() {
        var seen = Set<String>()
        for metric in DistanceMetric.allCases {
            let d = metric.descriptor
            XCTAssertEqual(d.id, metric.id)
            XCTAssertTrue(seen.insert(d.id).inserted, "duplicate id \(d.id)")
            XCTAssertTrue(d.id.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }, d.id)
            XCTAssertEqual(DistanceMetric(id: d.id), metric)
            for (field, text) in [("name", d.name), ("title", d.title), ("shortName", d.shortName), ("unit", d.unit),
                                  ("plain", d.formula.plain), ("latex", d.formula.latex), ("range", d.range),
                                  ("undefinedWhen", d.undefinedWhen), ("note", d.note)] {
                XCTAssertFalse(text.isEmpty, "\(d.id).\(field) is empty")
            }
            XCTAssertTrue(d.formula.mathML.hasPrefix("<math ") && d.formula.mathML.hasSuffix("</math>"), d.id)
            XCTAssertFalse(d.appliesTo.isEmpty, "\(d.id) applies to nothing")
            XCTAssertEqual(metric.subspace == nil, d.operand == .update || d.operand == .combMerge, d.id)
            // Only Comb's metrics (row = host) are asymmetric, and they need LoRA factors.
            XCTAssertEqual(d.isSymmetric, !metric.isCombMetric, d.id)
            if metric.isCombMetric { XCTAssertEqual(d.appliesTo, [.lora], d.id) }
        }
        XCTAssertNil(DistanceMetric(id: "euclid"))
        XCTAssertEqual(DistanceMetric.idList.split(separator: ",").count, DistanceMetric.allCases.count)
    }

    /// docs/metrics.md documents every metric: one table row per id.
    func testEveryMetricHasARowInTheDocs() throws {
        let text = try String(contentsOfFile: repositoryRoot + "/docs/metrics.md", encoding: .utf8)
        for metric in DistanceMetric.allCases {
            XCTAssertTrue(text.contains("| `\(metric.id)` |"), "docs/metrics.md has no row for \(metric.id)")
        }
    }

    func testSentenceList() {
        XCTAssertEqual(DistanceMetric.sentenceList([.cosine]), "cosine")
        XCTAssertEqual(DistanceMetric.sentenceList([.cosine, .grassmann]), "cosine and grassmann")
        XCTAssertEqual(DistanceMetric.sentenceList([.l2, .cosine, .grassmann]), "l2, cosine and grassmann")
    }

    /// d_G = √Σθ² in one place: a 3-4-5 case and no angle at all.
    func testGrassmannDistanceFromAngles() {
        XCTAssertEqual(PrincipalAngles.grassmannDistance([0.3, 0.4]), 0.5, accuracy: 1e-15)
        XCTAssertEqual(PrincipalAngles.grassmannDistance([]), 0)
        XCTAssertEqual(PrincipalAngles.grassmannDistance([.pi / 2]), .pi / 2)
    }

    /// The LoRA kernel, on adapters taking both paths (whole-host pairs and a rank-deficient core),
    /// fills every metric that applies to LoRA and nothing else; each filled matrix is complete
    /// (finite on generic data), symmetric where the descriptor says so, zero on the diagonal.
    func testLoRAKernelFillsExactlyTheMetricsOfLoRA() throws {
        var rng = SeededRandom(seed: 11)
        var adapters = (0..<3).map { index in
            LoRAFactors(b: Matrix(rows: 24, cols: 4, values: rng.gaussians(96)),
                        aTransposed: Matrix(rows: 20, cols: 4, values: rng.gaussians(80)), scaling: 1 + Double(index))
        }
        // A rank-deficient B (two equal columns): this adapter takes the general path.
        var deficient = adapters[0]
        for i in 0..<24 { deficient.b[i, 3] = deficient.b[i, 2] }
        adapters.append(deficient)
        let result = try BlockGeometry.analyze(adapters)
        assertFilled(result.distances, kind: .lora, count: adapters.count)
    }

    func testFullFineTuningKernelFillsExactlyTheMetricsOfFullFineTuning() throws {
        var rng = SeededRandom(seed: 12)
        let deltas = (0..<3).map { _ in Matrix(rows: 16, cols: 12, values: rng.gaussians(192)) }
        let result = try FullTaskVectors.analyze(deltas, subspaceRank: 3)
        assertFilled(result.distances, kind: .full, count: deltas.count)
    }

    private func assertFilled(_ distances: [DistanceMetric: PairMatrix], kind: FineTuningKind, count: Int,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(distances.keys), Set(DistanceMetric.applying(to: kind)), "metrics of \(kind)", file: file, line: line)
        for (metric, matrix) in distances {
            XCTAssertEqual(matrix.count, count, metric.id, file: file, line: line)
            for i in 0..<count {
                XCTAssertEqual(matrix[i, i], 0, "\(metric.id) diagonal", file: file, line: line)
                for j in 0..<count {
                    XCTAssertTrue(matrix[i, j].isFinite, "\(metric.id)[\(i), \(j)] was not filled", file: file, line: line)
                    if metric.descriptor.isSymmetric {
                        XCTAssertEqual(matrix[i, j], matrix[j, i], "\(metric.id) symmetric", file: file, line: line)
                    }
                }
            }
        }
    }
}
