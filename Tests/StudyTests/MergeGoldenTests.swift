import Foundation
import JSONText
import Study
import TensorIO
import TVGeoTestSupport
import XCTest

/// Compares `tvgeo merge --method cat` and `--method svd` with the dense NumPy reference
/// `scripts/reference_merge.py` (Tests/Fixtures/golden/merge-synthetic.json, independent of tvgeo's
/// factorizations): the synthetic pair t_r8 (F32, r 8, α 16) and t_r4 (F64, r 4, α 8), merged in both
/// orders, every block's ΔW′ = s′·B′·A′ of the written folder against the reference's, entry by entry.
///
/// Tolerance, per entry (k, l): |ΔW′ − ΔW_ref| ≤ 1e-9·max|ΔW_ref| + (2u + u²)·s′·Σ_m |B′_km|·|A′_ml|.
/// tvgeo computes in float64 and rounds each written factor element once to the host's dtype (relative
/// error ≤ u: 2⁻²⁴ for F32, 2⁻⁵³ for F64), so the product of two rounded factors is off by at most the
/// second term; the first is the float64 agreement of two different algorithms (QR-projected core SVD
/// and a dense SVD: about ε·σ₁/(σ_r − σ_r+1), with the smallest gap here 0.007·σ₁, so ~1e-14). With
/// the F64 host t_r4 that is the 1e-9 relative check of the other goldens; with the F32 host t_r8 it
/// is float32 precision, entry by entry, and no looser.
final class MergeGoldenTests: XCTestCase {
    var directory: TemporaryDirectory!

    override func setUp() { directory = TemporaryDirectory("merge-golden") }
    override func tearDown() { directory.remove() }

    struct Dense {
        var rows: Int
        var cols: Int
        var values: [Double]
        /// s′·Σ_m |B′_km|·|A′_ml|: the bound on what rounding the factors can do, before the factor 2u + u².
        var magnitudes: [Double]
    }

    func golden() throws -> JSONValue {
        try JSONParser.parse(try readWholeFile(repositoryRoot + "/Tests/Fixtures/golden/merge-synthetic.json"))
    }

    func flat(_ matrix: JSONValue?) throws -> [Double] {
        try XCTUnwrap(matrix?.arrayValue).flatMap { row in try XCTUnwrap(row.arrayValue).map { try XCTUnwrap($0.numberValue) } }
    }

    /// Every block of a written folder: ΔW′ = s′·B′·A′ by the plain triple loop, from the stored factors
    /// and the scaling PEFT's rules give the written config. Keyed by module path.
    func denseBlocks(_ folder: String) throws -> [String: (pair: LoRAFactorPair, dense: Dense)] {
        let adapter = try LoRAAdapter(task: "merged", path: folder)
        var out: [String: (pair: LoRAFactorPair, dense: Dense)] = [:]
        for (key, pair) in adapter.blocks {
            let (rows, cols, rank) = (pair.outFeatures, pair.inFeatures, pair.rank)
            var b = [Double](repeating: 0, count: rows * rank)  // column-major d_out × r
            var aT = [Double](repeating: 0, count: cols * rank)  // column-major d_in × r, i.e. A row-major
            try b.withUnsafeMutableBufferPointer { b in
                try aT.withUnsafeMutableBufferPointer { aT in try adapter.copyFactors(key, b: b, aTransposed: aT) }
            }
            var values = [Double](repeating: 0, count: rows * cols), magnitudes = values
            for k in 0..<rows {
                for l in 0..<cols {
                    var sum = 0.0, magnitude = 0.0
                    for m in 0..<rank {
                        sum += b[k + m * rows] * aT[l + m * cols]
                        magnitude += abs(b[k + m * rows] * aT[l + m * cols])
                    }
                    values[k * cols + l] = pair.scaling * sum
                    magnitudes[k * cols + l] = abs(pair.scaling) * magnitude
                }
            }
            XCTAssertNil(out[pair.modulePath], "\(pair.modulePath) twice")
            out[pair.modulePath] = (pair, Dense(rows: rows, cols: cols, values: values, magnitudes: magnitudes))
        }
        return out
    }

    /// The largest |ΔW′ − ΔW_ref| relative to max|ΔW_ref|, after checking every entry against the bound.
    func compare(_ dense: Dense, _ expected: [Double], dtype: TensorDType, _ label: String,
                 file: StaticString = #filePath, line: UInt = #line) -> Double {
        XCTAssertEqual(dense.values.count, expected.count, label, file: file, line: line)
        let unit = dtype == .f32 ? 0x1p-24 : 0x1p-53
        let scale = expected.map(abs).max() ?? 0
        var worst = 0.0, failures = 0
        for index in expected.indices where index < dense.values.count {
            let difference = abs(dense.values[index] - expected[index])
            worst = max(worst, difference / scale)
            if difference > 1e-9 * scale + (2 * unit + unit * unit) * dense.magnitudes[index] {
                failures += 1
                if failures <= 3 {
                    XCTFail("\(label) entry \(index): \(dense.values[index]) vs reference \(expected[index])", file: file, line: line)
                }
            }
        }
        XCTAssertEqual(failures, 0, "\(label): entries beyond the bound", file: file, line: line)
        return worst
    }

    /// Both ordered pairs of the golden's two adapters, merged with `method` into one --all-pairs folder.
    func merge(_ method: MergeMethod, _ document: JSONValue) throws -> (tasks: [String], out: String) {
        let inputs = try XCTUnwrap(document["inputs"]?.arrayValue)
        let arguments = try inputs.map { entry in
            AdapterArgument(task: try XCTUnwrap(entry["task"]?.stringValue), path: repositoryRoot + "/" + (try XCTUnwrap(entry["path"]?.stringValue)))
        }
        let out = directory.path + "/" + method.rawValue
        let result = try MergeRunner.runAllPairs(arguments, method: method, out: out)
        XCTAssertEqual(result.merges.count, 2)
        return (arguments.map(\.task), out)
    }

    func testCatOfTheSyntheticPairIsTheNumPyAverageInEveryBlock() throws {
        let document = try golden()
        let blocks = try XCTUnwrap(document["blocks"]?.arrayValue)
        XCTAssertEqual(blocks.count, 6)
        let (tasks, out) = try merge(.cat, document)
        for (host, partner) in [(tasks[0], tasks[1]), (tasks[1], tasks[0])] {
            let written = try denseBlocks(out + "/\(host)+\(partner)")
            XCTAssertEqual(Set(written.keys), Set(blocks.compactMap { $0["module_path"]?.stringValue }), host)
            let dtype = try XCTUnwrap(SafetensorsFile(path: out + "/\(host)+\(partner)/adapter_model.safetensors").tensors.first?.dtype)
            XCTAssertEqual(dtype, host == "t_r8" ? .f32 : .f64, "the host's dtype")
            var worst = 0.0
            for block in blocks {
                let path = try XCTUnwrap(block["module_path"]?.stringValue)
                let (pair, dense) = try XCTUnwrap(written[path], path)
                XCTAssertEqual(pair.rank, 12, path)
                XCTAssertEqual(pair.scaling, 1, path)
                worst = max(worst, compare(dense, try flat(block["average"]), dtype: dtype, "cat \(host)+\(partner) \(path)"))
            }
            print("merge golden: cat \(host)+\(partner) (\(dtype)): largest ΔW′ difference \(worst) of max|ΔW|")
        }
    }

    func testSVDOfTheSyntheticPairIsTheNumPyTruncationInEveryBlock() throws {
        let document = try golden()
        let blocks = try XCTUnwrap(document["blocks"]?.arrayValue)
        let (tasks, out) = try merge(.svd, document)
        for (host, partner) in [(tasks[0], tasks[1]), (tasks[1], tasks[0])] {
            let folder = out + "/\(host)+\(partner)"
            let written = try denseBlocks(folder)
            XCTAssertEqual(Set(written.keys), Set(blocks.compactMap { $0["module_path"]?.stringValue }), host)
            let dtype = try XCTUnwrap(SafetensorsFile(path: folder + "/adapter_model.safetensors").tensors.first?.dtype)
            XCTAssertEqual(dtype, host == "t_r8" ? .f32 : .f64, "the host's dtype")
            let record = try JSONParser.parse(try readWholeFile(folder + "/tvgeo-merge.json"))
            let recorded = try XCTUnwrap(record["blocks"]?.arrayValue)
            var worst = 0.0, largestError = 0.0
            for block in blocks {
                let path = try XCTUnwrap(block["module_path"]?.stringValue)
                let reference = try XCTUnwrap(block["svd"]?[host], "\(path) \(host)")
                let (pair, dense) = try XCTUnwrap(written[path], path)
                XCTAssertEqual(pair.rank, reference["rank"]?.intValue, path)
                XCTAssertEqual(pair.scaling, block["scalings"]?[host]?.numberValue, "\(path): the host's scaling")
                worst = max(worst, compare(dense, try flat(reference["delta"]), dtype: dtype, "svd \(host)+\(partner) \(path)"))
                // The truncation error comes from the float64 singular values, before any rounding.
                let expectedError = try XCTUnwrap(reference["truncation_error"]?.numberValue)
                let error = try XCTUnwrap(recorded.first { $0["module_path"]?.stringValue == path }?["truncation_error"]?.numberValue, path)
                XCTAssertTrue(isClose(error, expectedError, relative: 1e-9, absolute: 0), "\(path): \(error) vs reference \(expectedError)")
                largestError = max(largestError, expectedError)
            }
            let maximum = try XCTUnwrap(record["max_truncation_error"]?.numberValue)
            XCTAssertTrue(isClose(maximum, largestError, relative: 1e-9, absolute: 0), "max_truncation_error \(maximum) vs \(largestError)")
            print("merge golden: svd \(host)+\(partner) (\(dtype)): largest ΔW′ difference \(worst) of max|ΔW|")
        }
    }
}
