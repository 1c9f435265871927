import Foundation
import JSONText
import TVGeoTestSupport
import XCTest

/// `tvgeo analyze --part K/N` and `tvgeo combine`: a study split into parts and combined writes
/// the same bytes as one `analyze`; parts are idempotent, read only their share, and combine
/// refuses an incomplete or mixed set.
final class PartCombineTests: XCTestCase {
    var directory: TemporaryDirectory!
    let example = repositoryRoot + "/examples/minilm-glue8/adapters"
    let scores = repositoryRoot + "/examples/minilm-glue8/scores.csv"

    override func setUp() { directory = TemporaryDirectory("parts") }
    override func tearDown() { directory.remove() }

    var exampleAdapters: [String] { ["cola", "mrpc", "rte", "sst2", "emotion", "hate", "irony", "offensive"].map { example + "/" + $0 } }

    func run(_ arguments: [String]) throws -> CommandOutcome {
        try runTVGeo(arguments, in: directory.path)
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// Runs parts 1…N of `adapters` (each into its own folder) and returns the folders.
    func runParts(_ adapters: [String], parts: Int, extra: [String] = [], label: String) throws -> [String] {
        try (1...parts).map { part in
            let out = directory.path + "/\(label)-part\(part)"
            let result = try run(["analyze", "-q"] + adapters + extra + ["--part", "\(part)/\(parts)", "--out", out])
            XCTAssertEqual(result.status, 0, result.stderr)
            return out
        }
    }

    /// metrics.json, layers.safetensors and every CSV of the combined folder equal the one-machine analysis byte for byte.
    func assertSameOutput(_ combined: String, _ single: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: single)
            .filter { $0.hasSuffix(".csv") || $0 == "metrics.json" || $0 == "layers.safetensors" }.sorted()
        XCTAssertTrue(names.contains("metrics.json"), file: file, line: line)
        XCTAssertGreaterThan(names.count, 1, file: file, line: line)
        let combinedNames = try FileManager.default.contentsOfDirectory(atPath: combined).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertEqual(combinedNames, names, file: file, line: line)
        for name in names {
            XCTAssertEqual(try bytes(combined + "/" + name), try bytes(single + "/" + name), "\(name) differs", file: file, line: line)
        }
    }

    func testExampleInFourPartsCombinesToTheSameBytesAsAnalyze() throws {
        let single = directory.path + "/single"
        let analyzed = try run(["analyze", "-q"] + exampleAdapters + ["--scores", scores, "--out", single])
        XCTAssertEqual(analyzed.status, 0, analyzed.stderr)
        let parts = try runParts(exampleAdapters, parts: 4, label: "example")
        // Any order of the part folders.
        let combined = directory.path + "/combined"
        let result = try run(["combine", "-q"] + parts.reversed() + ["--scores", scores, "--out", combined])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, analyzed.stderr)
        try assertSameOutput(combined, single)
        // The scores made it in: the correlations are there.
        let metrics = try JSONParser.parse([UInt8](try bytes(combined + "/metrics.json")))
        XCTAssertNotNil(metrics["correlations"])
    }

    /// 64 synthetic adapters (one lacking a block, two bit-identical), whole blocks in four parts and,
    /// restricted to one module, tiles of the pair matrices (two blocks for four parts).
    func testSixtyFourAdaptersInBlocksAndInTilesCombineToTheSameBytesAsAnalyze() throws {
        let adapters = syntheticAdapters(count: 64)
        for (label, extra, tiles) in [("blocks", [String](), false), ("tiles", ["--modules", "query"], true)] {
            let single = directory.path + "/single-\(label)"
            let analyzed = try run(["analyze", "-q"] + adapters + extra + ["--out", single])
            XCTAssertEqual(analyzed.status, 0, analyzed.stderr)
            let parts = try runParts(adapters, parts: 4, extra: extra, label: label)
            let manifest = try JSONParser.parse([UInt8](try bytes(parts[0] + "/part.json")))
            XCTAssertEqual(manifest["study"]?["plan"]?["tiles_per_side"]?.intValue, tiles ? 2 : 1, label)
            let combined = directory.path + "/combined-\(label)"
            let result = try run(["combine", "-q"] + parts + ["--out", combined])
            XCTAssertEqual(result.status, 0, result.stderr)
            try assertSameOutput(combined, single)
        }
    }

    /// `combine --report` writes what `report` writes; metrics.json differs only in the provenance's
    /// command line and date.
    func testCombineReportMatchesReport() throws {
        let parts = try runParts(exampleAdapters, parts: 3, label: "report")
        let combined = directory.path + "/combined-report", single = directory.path + "/single-report"
        let result = try run(["combine", "-q"] + parts + ["--scores", scores, "--report", "--name", "demo", "--out", combined])
        XCTAssertEqual(result.status, 0, result.stderr)
        let reported = try run(["report", "-q"] + exampleAdapters + ["--scores", scores, "--name", "demo", "--out", single])
        XCTAssertEqual(reported.status, 0, reported.stderr)
        let names = { (folder: String) in try FileManager.default.subpathsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted() }
        XCTAssertEqual(try names(combined), try names(single))
        XCTAssertTrue(try names(combined).contains("report.html"))
        func withoutRunDetails(_ folder: String) throws -> JSONValue {
            let json = try JSONParser.parse([UInt8](try bytes(folder + "/metrics.json")))
            guard case .object(let pairs) = json else { return json }
            return .object(pairs.map { key, value in
                guard key == "provenance", case .object(let fields) = value else { return (key, value) }
                return (key, .object(fields.filter { $0.0 != "command_line" && $0.0 != "date" }))
            })
        }
        let expected = try withoutRunDetails(single)
        XCTAssertNotNil(expected["provenance"]?["inputs"])
        XCTAssertEqual(try withoutRunDetails(combined), expected)
    }

    func testRerunningAPartRewritesTheSameBytes() throws {
        let first = try runParts(exampleAdapters, parts: 3, label: "first")
        let again = directory.path + "/again"
        let rerun = try run(["analyze", "-q"] + exampleAdapters + ["--part", "2/3", "--out", again])
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        for name in ["part.json", "blocks.safetensors"] {
            XCTAssertEqual(try bytes(again + "/" + name), try bytes(first[1] + "/" + name), name)
        }
        // Over its own earlier output (after a crash, say): the same bytes again.
        let over = try run(["analyze", "-q"] + exampleAdapters + ["--part", "2/3", "--out", first[1]])
        XCTAssertEqual(over.status, 0, over.stderr)
        XCTAssertEqual(try bytes(first[1] + "/blocks.safetensors"), try bytes(again + "/blocks.safetensors"))
    }

    func testMissingDuplicateAndForeignPartsAreRefused() throws {
        let parts = try runParts(exampleAdapters, parts: 4, label: "good")
        let out = directory.path + "/combined"
        let missing = try run(["combine", parts[0], parts[1], parts[3], "--out", out])
        XCTAssertEqual(missing.status, 65, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("part 3/4 of this study is missing (given: 1/4, 2/4, 4/4)"), missing.stderr)
        let twice = try run(["combine"] + parts + [parts[2], "--out", out])
        XCTAssertEqual(twice.status, 65, twice.stderr)
        XCTAssertTrue(twice.stderr.contains("part 3/4 is given twice"), twice.stderr)

        // A part of another study: the same paths, but one adapter's weights changed after the other parts ran.
        let copies = exampleAdapters.map { path in directory.path + "/copies/" + (path as NSString).lastPathComponent }
        try FileManager.default.createDirectory(atPath: directory.path + "/copies", withIntermediateDirectories: true)
        for (path, copy) in zip(exampleAdapters, copies) { try FileManager.default.copyItem(atPath: path, toPath: copy) }
        let before = try runParts(copies, parts: 4, label: "before")
        let changed = copies[2] + "/adapter_model.safetensors"
        var weights = try bytes(changed)
        weights[weights.count - 1] ^= 0x01
        try weights.write(to: URL(fileURLWithPath: changed))
        let after = try runParts(copies, parts: 4, label: "after")
        let mixed = try run(["combine", before[0], after[1], before[2], before[3], "--out", out])
        XCTAssertEqual(mixed.status, 65, mixed.stderr)
        XCTAssertTrue(mixed.stderr.contains("part 2/4 belongs to another study than part 1/4"), mixed.stderr)
        XCTAssertTrue(mixed.stderr.contains("input \(changed) differs"), mixed.stderr)
        // A part of the same adapters split another way.
        let otherSplit = try run(["analyze", "-q"] + exampleAdapters + ["--part", "2/3", "--out", directory.path + "/other"])
        XCTAssertEqual(otherSplit.status, 0, otherSplit.stderr)
        let split = try run(["combine", parts[0], directory.path + "/other", "--out", out])
        XCTAssertEqual(split.status, 65, split.stderr)
        XCTAssertTrue(split.stderr.contains("the plans differ (3 parts"), split.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let notAPart = try run(["combine", parts[0], example + "/cola", "--out", out])
        XCTAssertEqual(notAPart.status, 66, notAPart.stderr)
        XCTAssertTrue(notAPart.stderr.contains("part.json: no such file"), notAPart.stderr)
    }

    /// A non-finite weight stops any run that reads it (exit 65): the parts whose share leaves its
    /// block out succeed, so they did not read it; the part that has it fails.
    func testAPartReadsOnlyTheBlocksOfItsShare() throws {
        var adapters = syntheticAdapters(count: 4)
        adapters[2] = writeAdapter(name: "poisoned", seed: 99, poison: (module: "value", layer: 1))
        let single = try run(["analyze", "-q"] + adapters + ["--out", directory.path + "/single"])
        XCTAssertEqual(single.status, 65, single.stderr)
        XCTAssertTrue(single.stderr.contains("must be finite"), single.stderr)
        // Four blocks (query 0, query 1, value 0, value 1), one per part: only part 4 reads value 1.
        for part in 1...4 {
            let result = try run(["analyze", "-q"] + adapters + ["--part", "\(part)/4", "--out", directory.path + "/p\(part)"])
            XCTAssertEqual(result.status, part == 4 ? 65 : 0, "part \(part): \(result.stderr)")
        }
    }

    func testPartOptionsAreValidated() throws {
        for (part, fragment) in [("0/4", "K must be between 1 and N"), ("5/4", "K must be between 1 and N"), ("2", "--part must be K/N"),
                                 ("a/b", "--part must be K/N"), ("1/4/2", "--part must be K/N"), ("-1/4", "--part must be K/N")] {
            let result = try run(["analyze"] + exampleAdapters + ["--part=" + part, "--out", directory.path + "/x"])
            XCTAssertEqual(result.status, 64, "\(part): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(fragment), "\(part): \(result.stderr)")
        }
        let withScores = try run(["analyze"] + exampleAdapters + ["--part", "1/2", "--scores", scores, "--out", directory.path + "/x"])
        XCTAssertEqual(withScores.status, 64, withScores.stderr)
        XCTAssertTrue(withScores.stderr.contains("give --scores to tvgeo combine"), withScores.stderr)
        let fft = repositoryRoot + "/Tests/Fixtures/real/minilm-fullft"
        let withBase = try run(["analyze", fft + "/cola", fft + "/sst2", "--base", fft + "/base", "--part", "1/2", "--out", directory.path + "/x"])
        XCTAssertEqual(withBase.status, 64, withBase.stderr)
        XCTAssertTrue(withBase.stderr.contains("--part splits LoRA studies only"), withBase.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/x"))
    }

    // MARK: synthetic adapters

    /// `count` rank-4 adapters with query and value at layers 0 and 1 (d = 24), seeded; adapter 5
    /// has no value factors at layer 1, adapter 9 is a bit-identical copy of adapter 8.
    func syntheticAdapters(count: Int) -> [String] {
        (0..<count).map { index in
            writeAdapter(name: String(format: "task%02d", index), seed: UInt64(index == 9 ? 8 : index) + 1,
                         skip: index == 5 ? (module: "value", layer: 1) : nil)
        }
    }

    func writeAdapter(name: String, seed: UInt64, skip: (module: String, layer: Int)? = nil,
                      poison: (module: String, layer: Int)? = nil) -> String {
        var random = SeededRandom(seed: seed)
        let (features, rank) = (24, 4)
        var adapter = AdapterFixture(rank: rank, alpha: 8)
        for layer in [0, 1] {
            for module in ["query", "value"] {
                var b = random.gaussians(features * rank)
                let a = random.gaussians(rank * features)
                if let skip, skip == (module, layer) { continue }
                if let poison, poison == (module, layer) { b[3] = .nan }
                adapter.addModule(layer: layer, module: module, b: b, a: a, outFeatures: features, inFeatures: features)
            }
        }
        return adapter.write(into: directory, name: "adapters/" + name)
    }
}
