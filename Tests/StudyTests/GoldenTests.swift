import AnalysisCore
import JSONText
import Study
import TensorIO
import TVGeoTestSupport
import XCTest

/// Compares `tvgeo analyze` with the independent NumPy/SciPy reference
/// (`scripts/reference_distances.py`, dense ΔW and `scipy.linalg.subspace_angles`), whose output
/// is committed under Tests/Fixtures/golden so this test needs no Python.
final class GoldenTests: XCTestCase {
    struct Golden {
        var inputs: [AdapterArgument]
        var tasks: [String]
        var modules: [String]
        var document: JSONValue
    }

    func loadGolden(_ name: String) throws -> Golden {
        let bytes = try readWholeFile(repositoryRoot + "/Tests/Fixtures/golden/\(name).json")
        let document = try JSONParser.parse(bytes)
        let inputs = try XCTUnwrap(document["inputs"]?.arrayValue).map { entry in
            AdapterArgument(task: entry["task"]!.stringValue!, path: repositoryRoot + "/" + entry["path"]!.stringValue!)
        }
        return Golden(inputs: inputs, tasks: document["tasks"]!.arrayValue!.map { $0.stringValue! },
                      modules: document["modules"]!.arrayValue!.map { $0.stringValue! }, document: document)
    }

    /// Largest relative difference seen per metric, printed for the record.
    func compare(_ name: String, relative: Double = 1e-9, file: StaticString = #filePath, line: UInt = #line) throws {
        let golden = try loadGolden(name)
        let analysis = try LoRAStudy.analyze(golden.inputs)
        XCTAssertEqual(analysis.tasks, golden.tasks, file: file, line: line)
        XCTAssertEqual(analysis.modules, golden.modules, file: file, line: line)
        for metric in DistanceMetric.allCases {
            var worst = 0.0
            for module in golden.modules {
                let expected = try XCTUnwrap(golden.document["distances"]?[metric.rawValue]?[module], "\(metric) \(module)")
                let actual = try XCTUnwrap(analysis.distances[metric]?[module])
                XCTAssertEqual(actual.layerIDs, expected["layer_ids"]!.arrayValue!.map { $0.intValue! }, file: file, line: line)
                let matrices = zip(expected["layers"]!.arrayValue!, actual.layers).map { ($0, $1) } + [(expected["mean"]!, actual.mean)]
                for (index, (reference, computed)) in matrices.enumerated() {
                    let rows = reference.arrayValue!
                    for i in rows.indices {
                        for (j, cell) in rows[i].arrayValue!.enumerated() {
                            let value = computed[i, j]
                            guard let want = cell.numberValue else {
                                XCTAssertTrue(value.isNaN, "\(name) \(metric) \(module) #\(index) [\(i),\(j)]: want null, got \(value)",
                                              file: file, line: line)
                                continue
                            }
                            // Absolute floor: the reference subtracts dense matrices, so near-equal
                            // adapters carry its own rounding (ε·‖ΔW‖) in absolute terms.
                            if !isClose(value, want, relative: relative, absolute: 1e-12) {
                                XCTFail("\(name) \(metric) \(module) #\(index) [\(i),\(j)]: \(value) vs reference \(want)", file: file, line: line)
                            }
                            if want != 0 { worst = max(worst, abs(value - want) / abs(want)) }
                        }
                    }
                }
            }
            print("golden \(name) \(metric.rawValue): largest relative difference \(worst)")
        }
        if let ranks = golden.document["ranks"] {
            for module in golden.modules {
                for (taskIndex, task) in golden.tasks.enumerated() {
                    for (key, kind) in [("grassmann", SubspaceKind.delta), ("grassmann_b", .b), ("grassmann_a", .a)] {
                        let want: [Int?]? = ranks[module]?[task]?[key]?.arrayValue?.map(\.intValue)
                        XCTAssertEqual(analysis.subspaceRanks[module]?[kind]?[taskIndex], want, "\(name) ranks \(module) \(task) \(key)",
                                       file: file, line: line)
                    }
                }
            }
        }
    }

    func testMiniLMExampleMatchesSciPy() throws { try compare("minilm-glue8") }
    func testThirdPartyGPT2MatchesSciPy() throws { try compare("gpt2-third-party") }
    func testSyntheticMixedRanksDtypesAndPatternsMatchSciPy() throws { try compare("synthetic-mixed") }
    func testSyntheticQueryOnlyMatchesSciPy() throws { try compare("synthetic-query-only") }
}
