import Foundation
import JSONText
import TVGeoTestSupport
import XCTest

/// End-to-end runs of `tvgeo merge` with the built executable. These need `Merge.self` in the
/// `subcommands:` of `TVGeo` (Sources/tvgeo/TVGeoCommand.swift).
final class MergeCommandTests: XCTestCase {
    var directory: TemporaryDirectory!
    let example = repositoryRoot + "/examples/minilm-glue8/adapters"
    let synthetic = repositoryRoot + "/Tests/Fixtures/synthetic"

    override func setUp() { directory = TemporaryDirectory("merge-cli") }
    override func tearDown() { directory.remove() }

    func run(_ arguments: [String]) throws -> CommandOutcome {
        try runTVGeo(arguments, in: directory.path)
    }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Asserts the exit code and one error line containing `fragment`.
    func assertFails(_ arguments: [String], _ status: Int32, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try run(arguments)
        XCTAssertEqual(result.status, status, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(fragment), "“\(result.stderr)” lacks “\(fragment)”", file: file, line: line)
        if status != 64 {
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
            XCTAssertTrue(result.stderr.hasPrefix("tvgeo: error: "), result.stderr, file: file, line: line)
        }
    }

    func testMergeWritesAFolderHostedByTheFirstAdapter() throws {
        let out = directory.path + "/cola+mrpc"
        let result = try run(["merge", example + "/cola", example + "/mrpc", "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("wrote \(out) (comb: host cola, partner mrpc; 12 blocks"), result.stdout)
        XCTAssertEqual(try bytes(out + "/adapter_config.json"), try bytes(example + "/cola/adapter_config.json"))
        let record = try JSONParser.parse(try bytes(out + "/tvgeo-merge.json"))
        XCTAssertEqual(record["method"], .string("comb"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/adapter_model.safetensors"))

        let svd = try run(["merge", "--method", "svd", "--quiet", "sentiment=" + example + "/sst2", example + "/rte",
                           "--out", directory.path + "/svd"])
        XCTAssertEqual(svd.status, 0, svd.stderr)
        XCTAssertEqual(svd.stdout, "")
        let svdRecord = try JSONParser.parse(try bytes(directory.path + "/svd/tvgeo-merge.json"))
        XCTAssertEqual(svdRecord["host"]?["task"], .string("sentiment"))
        XCTAssertNotNil(svdRecord["max_truncation_error"]?.numberValue)
    }

    func testAllPairsWritesSixFoldersAndAManifest() throws {
        let out = directory.path + "/pairs"
        let result = try run(["merge", "--all-pairs", "--method", "cat", example + "/cola", example + "/mrpc", example + "/rte", "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("wrote 6 cat merges of 3 adapters"), result.stdout)
        let folders = ["cola+mrpc", "cola+rte", "mrpc+cola", "mrpc+rte", "rte+cola", "rte+mrpc"]
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: out)),
                       Set(folders + [".tvgeo-output", "manifest.json", "manifest.csv"]))
        let csv = String(decoding: try bytes(out + "/manifest.csv"), as: UTF8.self)
        XCTAssertEqual(csv, "host,partner,folder,method,status,reason\n" + folders.map { folder in
            let parts = folder.split(separator: "+")
            return "\(parts[0]),\(parts[1]),\(folder),cat,written,\n"
        }.joined())
        XCTAssertEqual(result.stderr, "")
        for folder in folders {
            let config = try JSONParser.parse(try bytes(out + "/" + folder + "/adapter_config.json"))
            XCTAssertEqual(config["r"], .int(16), folder)
        }
    }

    func testAllPairsSkipsIncompatiblePairsWithOneWarning() throws {
        // comb: t_r4 (rank 4) merges with neither t_r8 nor t_near (rank 8); t_zero_b is untrained.
        let out = directory.path + "/some"
        let adapters = ["t_r8", "t_r4", "t_near", "t_zero_b"].map { synthetic + "/" + $0 }
        let result = try run(["merge", "--all-pairs"] + adapters + ["--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("wrote 6 comb merges of 4 adapters into \(out)/ (6 skipped; manifest.json, manifest.csv)"),
                      result.stdout)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.filter { $0.contains("skipped") },
                       ["tvgeo: warning: 6 of 12 ordered pairs skipped (t_r8+t_r4, t_r4+t_r8, t_r4+t_near, …): comb cannot merge them; "
                        + "each is listed with its reason in \(out)/manifest.json and manifest.csv"])
        // The untrained adapter is named once, however many merges it is in.
        XCTAssertEqual(lines.filter { $0.contains("untrained") }.count, 1, result.stderr)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("tvgeo: warning: ") }, result.stderr)
        let csv = String(decoding: try bytes(out + "/manifest.csv"), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(csv.count, 13)
        XCTAssertEqual(csv.filter { $0.contains(",written,") }.count, 6)
        XCTAssertEqual(csv.filter { $0.contains(",skipped,") }.count, 6)
        let manifest = try JSONParser.parse(try bytes(out + "/manifest.json"))
        XCTAssertEqual(manifest["skipped"]?.arrayValue?.count, 6)

        // No pair can be merged: one error line, exit 65, nothing written.
        try assertFails(["merge", "--all-pairs", synthetic + "/t_r8", synthetic + "/t_r4", "--out", directory.path + "/none"], 65,
                        "none of the 2 ordered pairs of the 2 adapters can be merged by comb")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/none"))
        // The rule is in the help.
        let help = try run(["merge", "--help"])
        XCTAssertTrue(help.stdout.contains("skipped"), help.stdout)
        XCTAssertTrue(help.stdout.replacingOccurrences(of: "\n", with: " ").contains("at least one pair was written"), help.stdout)
    }

    func testBinFoldersAndModuleSetsThroughTheCommand() throws {
        // .bin folders merge into the same safetensors file as their safetensors twins.
        let bin = realDataPath + "/minilm-glue8-bin"
        for method in ["comb", "cat", "svd"] {
            let result = try run(["merge", "--method", method, bin + "/emotion", bin + "/sst2", "--out", directory.path + "/bin-" + method])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stderr, "")
            let twin = try run(["merge", "--method", method, example + "/emotion", example + "/sst2", "--out", directory.path + "/st-" + method])
            XCTAssertEqual(twin.status, 0, twin.stderr)
            XCTAssertEqual(try bytes(directory.path + "/bin-\(method)/adapter_model.safetensors"),
                           try bytes(directory.path + "/st-\(method)/adapter_model.safetensors"), method)
        }
        // cat keeps value, which only t_r8 adapts, and says so; comb refuses and points to cat.
        let cat = try run(["merge", "--method", "cat", synthetic + "/t_r8", synthetic + "/t_query_only", "--out", directory.path + "/cat"])
        XCTAssertEqual(cat.status, 0, cat.stderr)
        XCTAssertTrue(cat.stderr.hasPrefix("tvgeo: warning: cat: module value is adapted by the host t_r8 only (not by t_query_only)"), cat.stderr)
        try assertFails(["merge", synthetic + "/t_r8", synthetic + "/t_query_only", "--out", directory.path + "/o"], 65, "use --method cat")
    }

    func testAnUntrainedPartnerIsMergedWithAWarning() throws {
        let out = directory.path + "/zero"
        let result = try run(["merge", synthetic + "/t_r8", synthetic + "/t_zero_b", "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        let warning = "tvgeo: warning: t_zero_b (\(synthetic)/t_zero_b) looks untrained: every lora_B is zero (PEFT's initial value)"
        XCTAssertTrue(result.stderr.hasPrefix(warning), result.stderr)
        let record = try JSONParser.parse(try bytes(out + "/tvgeo-merge.json"))
        XCTAssertTrue(record["warnings"]?.arrayValue?.contains { $0.stringValue?.contains("t_zero_b") == true } == true, "\(record)")
    }

    func testBadInputsExitWithTheirCodes() throws {
        try assertFails(["merge", example + "/cola", directory.path + "/missing", "--out", directory.path + "/o"], 66, "missing")
        try assertFails(["merge", synthetic + "/t_r8", synthetic + "/t_query_only", "--out", directory.path + "/o"], 65, "value only in t_r8")
        try assertFails(["merge", synthetic + "/t_r8", synthetic + "/t_r4", "--out", directory.path + "/o"], 65, "rank 4 here but 8 in the host t_r8")
        directory.write("taken/file.txt", text: "x")
        try assertFails(["merge", example + "/cola", example + "/mrpc", "--out", directory.path + "/taken"], 73, "not a tvgeo output")
        try assertFails(["merge", "--all-pairs", example + "/cola", example + "/mrpc", "--out", directory.path + "/taken"], 73, "not a tvgeo output")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/o"))
        // Usage errors.
        try assertFails(["merge", example + "/cola", "--out", directory.path + "/o"], 64, "two adapters")
        try assertFails(["merge", example + "/cola", example + "/mrpc", example + "/rte", "--out", directory.path + "/o"], 64, "--all-pairs")
        try assertFails(["merge", example + "/cola", example + "/mrpc"], 64, "--out")
        try assertFails(["merge", "--method", "ties", example + "/cola", example + "/mrpc", "--out", directory.path + "/o"], 64, "ties")
        try assertFails(["merge", "--all-pairs", example + "/cola", "--out", directory.path + "/o"], 64, "at least two")
    }

    /// Folder names made from task names stay inside --out, whatever the names hold.
    func testHostileTaskNamesCannotLeaveTheOutputFolder() throws {
        let out = directory.path + "/pairs"
        let result = try run(["merge", "--quiet", "--all-pairs", "../../x=" + example + "/cola", "/etc/y=" + example + "/mrpc", "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["pairs"], "nothing beside the output folder")
        let folders = try FileManager.default.contentsOfDirectory(atPath: out).filter { !$0.hasPrefix("manifest") && $0 != ".tvgeo-output" }.sorted()
        XCTAssertEqual(folders, ["_._.._x+_etc_y", "_etc_y+_._.._x"], "no hidden folder, no path separator")
        for folder in folders {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + folder + "/adapter_model.safetensors"), folder)
        }
        let manifest = try JSONParser.parse(try bytes(out + "/manifest.json"))
        XCTAssertTrue("\(manifest)".contains("../../x"), "the manifest keeps the task names as given")
    }
}
