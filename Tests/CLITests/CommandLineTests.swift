import AnalysisCore
import Foundation
import JSONText
import TVGeoTestSupport
import XCTest

/// End-to-end: runs the built `tvgeo` executable and checks exit codes, messages and files.
final class CommandLineTests: XCTestCase {
    var directory: TemporaryDirectory!
    let example = repositoryRoot + "/examples/minilm-glue8/adapters"

    override func setUp() { directory = TemporaryDirectory("cli") }
    override func tearDown() { directory.remove() }

    func run(_ arguments: [String], in workingDirectory: String? = nil) throws -> CommandOutcome {
        try runTVGeo(arguments, in: workingDirectory ?? directory.path)
    }

    func testAnalyzeWritesMetricsAndTables() throws {
        let out = directory.path + "/study"
        let result = try run(["analyze", example + "/cola", example + "/mrpc", "sentiment=" + example + "/sst2", "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("grassmann · query"), result.stdout)
        let metrics = try JSONParser.parse(try readFile(out + "/metrics.json"))
        XCTAssertEqual(metrics["tasks"], .array(["cola", "mrpc", "sentiment"].map(JSONValue.string)))
        for metric in ["l2", "cosine", "grassmann", "grassmann_b", "grassmann_a"] {
            for module in ["query", "value"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/distances-\(metric)-\(module).csv"), "\(metric) \(module)")
            }
        }
        XCTAssertEqual(metrics["layers_file"]?["path"]?.stringValue, "layers.safetensors")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/layers.safetensors"))

        // export --json-layers: the inline layout beside metrics.json, never over an existing file without --force.
        let exported = try run(["export", "--json-layers", out])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let inline = try JSONParser.parse(try readFile(out + "/metrics-inline.json"))
        XCTAssertEqual(inline["schema"]?.stringValue, "tvgeo.metrics/2")
        XCTAssertEqual(inline["distances"]?["l2"]?["query"]?["layers"]?.arrayValue?.count, 6)
        XCTAssertEqual(inline["distances"]?["l2"]?["query"]?["mean"]?.arrayValue?.count, 3)
        let again = try run(["export", "--json-layers", out])
        XCTAssertEqual(again.status, 73, again.stderr)
        XCTAssertTrue(again.stderr.contains("--force"), again.stderr)
        XCTAssertEqual(try run(["export", "--json-layers", out, "--force", "--quiet"]).status, 0)
        XCTAssertEqual(try run(["export"]).status, 64)
        XCTAssertEqual(try run(["export", "--json-layers", directory.path + "/nowhere"]).status, 66)
    }

    /// Three of the example's eight tasks with its full scores file: the rows about the other five
    /// are left out with one warning, on stderr and in metrics.json.
    func testScoresCoveringMoreTasksThanTheStudy() throws {
        let out = directory.path + "/three"
        let scores = repositoryRoot + "/examples/minilm-glue8/scores.csv"
        let result = try run(["analyze", "-q", example + "/cola", example + "/mrpc", example + "/rte", "--scores", scores, "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        let warning = scores + ": 55 rows name tasks outside this study (sst2, emotion, hate, irony, offensive) and are left out"
        XCTAssertEqual(result.stderr, "tvgeo: warning: " + warning + "\n")
        let metrics = try JSONParser.parse(try readFile(out + "/metrics.json"))
        XCTAssertEqual(metrics["warnings"], .array([.string(warning)]))
        let delta = try XCTUnwrap(metrics["delta"]?.arrayValue)
        XCTAssertEqual(delta.count, 3)
        for (i, row) in delta.enumerated() {
            let values = try XCTUnwrap(row.arrayValue)
            XCTAssertEqual(values.count, 3)
            for j in 0..<values.count { XCTAssertEqual(values[j].numberValue == nil, i == j, "δ(\(i), \(j)) is null only on the diagonal") }
        }
        XCTAssertEqual(metrics["scores"]?.arrayValue?.count, 9)
    }

    /// `--ridge-lambda` reaches the prediction (metrics.json records it) and must be positive; with
    /// scores, analyze writes every pair's predicted loss.
    func testRidgeLambdaOption() throws {
        let out = directory.path + "/ridge"
        let tasks = ["cola", "mrpc", "rte", "sst2", "emotion"].map { example + "/" + $0 }
        let scores = repositoryRoot + "/examples/minilm-glue8/scores.csv"
        let result = try run(["analyze"] + tasks + ["--scores", scores, "--ridge-lambda", "2.5", "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        let document = try JSONParser.parse(try Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json")))
        XCTAssertEqual(document["prediction"]?["ridge_lambda"]?.numberValue, 2.5)
        XCTAssertEqual(document["prediction"]?["features"]?.arrayValue?.count, 14, "7 metrics × 2 modules")
        let csv = try String(contentsOfFile: out + "/merge-predictions.csv", encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + 5 * 4)
        XCTAssertTrue(result.stdout.contains("best predictor out of sample"), result.stdout)
        let zero = try run(["analyze", "-q"] + tasks + ["--scores", scores, "--ridge-lambda", "0", "--out", directory.path + "/never"])
        XCTAssertEqual(zero.status, 64, zero.stderr)
        XCTAssertTrue(zero.stderr.contains("--ridge-lambda must be a positive number"), zero.stderr)
    }

    func testModulesRestrictTheAnalysis() throws {
        let out = directory.path + "/value-only"
        let result = try run(["analyze", "-q", example + "/cola", example + "/mrpc", "--modules", "value", "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        let metrics = try JSONParser.parse(try readFile(out + "/metrics.json"))
        XCTAssertEqual(metrics["modules"], .array([.string("value")]))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/distances-l2-query.csv"))
        let unknown = try run(["analyze", "-q", example + "/cola", example + "/mrpc", "--modules", "key", "--out", directory.path + "/never"])
        XCTAssertEqual(unknown.status, 64, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("they share query, value"), unknown.stderr)
    }

    /// A report folder with the user's NOTES.md: `report` and `analyze` rerun into it keep it
    /// byte-identical; an edited figure stops the rerun (exit 73) until moved or forced.
    func testRerunsKeepTheUsersFiles() throws {
        let out = directory.path + "/study"
        let adapters = [example + "/cola", example + "/mrpc", example + "/rte"]
        let first = try run(["report", "-q"] + adapters + ["--out", out, "--formats", "html,svg,json"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let notes = Data("# My notes\nrun 3 looked odd\n".utf8)
        try notes.write(to: URL(fileURLWithPath: out + "/NOTES.md"))
        for command in [["report", "-q"] + adapters + ["--formats", "html,svg,json"], ["analyze", "-q"] + adapters] {
            let again = try run(command + ["--out", out])
            XCTAssertEqual(again.status, 0, again.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/NOTES.md")), notes, command[0])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/report.html"), "analyze replaced the report's files")
        let figure = out + "/distances-l2-query.csv"
        try Data("edited\n".utf8).write(to: URL(fileURLWithPath: figure))
        let refused = try run(["analyze", "-q"] + adapters + ["--out", out])
        XCTAssertEqual(refused.status, 73, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("distances-l2-query.csv") && refused.stderr.contains("--force"), refused.stderr)
        XCTAssertEqual(try String(contentsOfFile: figure, encoding: .utf8), "edited\n")
        let forced = try run(["analyze", "-q"] + adapters + ["--out", out, "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertNotEqual(try String(contentsOfFile: figure, encoding: .utf8), "edited\n")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/NOTES.md")), notes)
    }

    /// Every command that writes a folder accepts the --force its messages suggest.
    func testEveryWritingCommandHasTheForceItsMessagesName() throws {
        let commands: [(String, [String])] = [
            ("analyze", ["analyze", "-q", example + "/cola", example + "/mrpc"]),
            ("merge", ["merge", "-q", example + "/cola", example + "/mrpc"]),
            ("merge --all-pairs", ["merge", "-q", "--all-pairs", example + "/cola", example + "/mrpc"]),
            ("report", ["report", "-q", example + "/cola", example + "/mrpc", "--formats", "json"]),
        ]
        for (index, (name, command)) in commands.enumerated() {
            let out = directory.path + "/foreign\(index)"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try Data("mine\n".utf8).write(to: URL(fileURLWithPath: out + "/mine.txt"))
            let refused = try run(command + ["--out", out])
            XCTAssertEqual(refused.status, 73, "\(name): \(refused.stderr)")
            XCTAssertTrue(refused.stderr.contains("pass --force"), "\(name): \(refused.stderr)")
            let forced = try run(command + ["--out", out, "--force"])
            XCTAssertEqual(forced.status, 0, "\(name) --force: \(forced.stderr)")
            XCTAssertEqual(try String(contentsOfFile: out + "/mine.txt", encoding: .utf8), "mine\n", name)
            XCTAssertGreaterThan(try FileManager.default.contentsOfDirectory(atPath: out).count, 1, name)
        }
    }

    /// Usage mistakes get a message that says what to do: help for a bare `tvgeo`, the closest
    /// subcommand or metric, options that do not apply, a file that needs no conversion.
    func testUsageMistakesGetHelpfulMessages() throws {
        let bare = try run([])
        XCTAssertEqual(bare.status, 64)
        XCTAssertTrue(bare.stderr.contains("SUBCOMMANDS:") && bare.stderr.contains("report"), bare.stderr)
        let typo = try run(["reprot"])
        XCTAssertEqual(typo.status, 64)
        XCTAssertTrue(typo.stderr.contains("unknown subcommand \"reprot\" (did you mean report?)"), typo.stderr)
        let two = [example + "/cola", example + "/mrpc"]
        let metrics = try run(["report", "-q"] + two + ["--metrics", "grasmann", "--out", directory.path + "/never"])
        XCTAssertEqual(metrics.status, 64)
        XCTAssertTrue(metrics.stderr.contains("unknown metric \"grasmann\" (did you mean grassmann?)"), metrics.stderr)
        let capitals = try run(["report", "-q"] + two + ["--metrics", "Cosine,L2", "--formats", "json", "--out", directory.path + "/caps"])
        XCTAssertEqual(capitals.status, 0, "metric names are case-insensitive: \(capitals.stderr)")
        let rank = try run(["analyze", "-q"] + two + ["--subspace-rank", "3", "--out", directory.path + "/never"])
        XCTAssertEqual(rank.status, 64)
        XCTAssertTrue(rank.stderr.contains("--subspace-rank applies to full fine-tuning (with --base)"), rank.stderr)
        let fft = repositoryRoot + "/Tests/Fixtures/real/minilm-fullft"
        let wide = try run(["analyze", "-q", "--base", fft + "/base.safetensors", fft + "/sst2", fft + "/irony",
                            "--subspace-rank", "500", "--out", directory.path + "/never"])
        XCTAssertEqual(wide.status, 64)
        XCTAssertTrue(wide.stderr.contains("--subspace-rank 500 exceeds the size of") && wide.stderr.contains("use at most 384"), wide.stderr)
        let convert = try run(["convert", example + "/cola/adapter_model.safetensors", directory.path + "/x.safetensors"])
        XCTAssertEqual(convert.status, 65)
        XCTAssertTrue(convert.stderr.contains("is already a safetensors file"), convert.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/never"))
    }

    func testDefaultOutputFolderIsNamedAfterTheStudy() throws {
        let result = try run(["analyze", "--quiet", example + "/rte", example + "/hate"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/output/minilm-glue8/metrics.json"))
    }

    func testUsageErrorsExit64() throws {
        let none = try run(["analyze"])
        XCTAssertEqual(none.status, 64, none.stderr)
        XCTAssertTrue(none.stderr.contains("at least one adapter"), none.stderr)
        let twice = try run(["analyze", example + "/cola", "cola=" + example + "/rte"])
        XCTAssertEqual(twice.status, 64, twice.stderr)
        XCTAssertTrue(twice.stderr.contains("task name \"cola\" is given twice"), twice.stderr)
        XCTAssertEqual(try run(["analyze", "--no-such-option", example + "/cola"]).status, 64)
        XCTAssertEqual(try run(["frobnicate"]).status, 64)
    }

    func testBadDataExits65WithOneLineNamingFileAndTensor() throws {
        var bytes = try readFile(example + "/cola/adapter_model.safetensors")
        bytes.removeLast(100)
        directory.write("broken/adapter_model.safetensors", bytes: bytes)
        directory.write("broken/adapter_config.json", bytes: try readFile(example + "/cola/adapter_config.json"))
        let result = try run(["analyze", directory.path + "/broken", example + "/rte", "--out", directory.path + "/never"])
        XCTAssertEqual(result.status, 65, result.stderr)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("tvgeo: error: ") && result.stderr.contains("broken/adapter_model.safetensors"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/never"), "no output on error")
    }

    func testMissingInputExits66() throws {
        let result = try run(["analyze", directory.path + "/nowhere", example + "/rte"])
        XCTAssertEqual(result.status, 66, result.stderr)
        XCTAssertTrue(result.stderr.contains("nowhere: no such file or directory"), result.stderr)
    }

    func testUnwritableOutputExits73AndKeepsWhatWasThere() throws {
        let keep = directory.write("taken/notes.txt", text: "mine")
        let result = try run(["analyze", example + "/cola", example + "/rte", "--out", directory.path + "/taken"])
        XCTAssertEqual(result.status, 73, result.stderr)
        XCTAssertTrue(result.stderr.contains("not a tvgeo output"), result.stderr)
        XCTAssertEqual(try String(contentsOfFile: keep, encoding: .utf8), "mine")
        let file = directory.write("plain", text: "x")
        XCTAssertEqual(try run(["analyze", example + "/cola", example + "/rte", "--out", file + "/sub"]).status, 73)
    }

    func testFiguresAreDrawnInTheRequestedFormats() throws {
        let out = directory.path + "/figs"
        let result = try run(["analyze", "-q", example + "/cola", example + "/rte", example + "/hate", "--out", out, "--figures", "svg,pdf"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let figures = try FileManager.default.contentsOfDirectory(atPath: out + "/figures").sorted()
        XCTAssertEqual(figures.count, 2 * 7 * 2 * 2, "heatmap and PCA map per metric and module, two formats: \(figures)")
        XCTAssertTrue(figures.contains("heatmap-grassmann_b-value.svg") && figures.contains("heatmap-l2-query.pdf")
                      && figures.contains("pca-cosine-value.svg"), "\(figures)")
        let svg = try String(contentsOfFile: out + "/figures/heatmap-cosine-query.svg", encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<?xml") && svg.contains("<svg"), String(svg.prefix(80)))
        let pdf = try readFile(out + "/figures/heatmap-cosine-query.pdf")
        XCTAssertEqual(Array(pdf.prefix(5)), Array("%PDF-".utf8))

        let bad = try run(["analyze", example + "/cola", example + "/rte", "--figures", "svg,gif"])
        XCTAssertEqual(bad.status, 64, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("unknown figure format \"gif\""), bad.stderr)
    }

    func testVersionAndHelp() throws {
        let version = try run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertFalse(version.stdout.isEmpty)
        let help = try run(["analyze", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("65 invalid input data"), help.stdout)
    }

    func readFile(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

final class ConvertCommandTests: XCTestCase {
    /// The tensors of a safetensors file read by hand (8-byte header length, JSON header, data):
    /// name → (dtype, shape, bytes).
    static func tensors(_ file: Data) throws -> [String: (dtype: String, shape: [Int], bytes: Data)] {
        let bytes = [UInt8](file)
        let length = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        let header = try JSONParser.parse(Array(bytes[8..<(8 + length)]))
        var tensors: [String: (dtype: String, shape: [Int], bytes: Data)] = [:]
        for (name, entry) in try XCTUnwrap(header.objectPairs) where name != "__metadata__" {
            let offsets = try XCTUnwrap(entry["data_offsets"]?.arrayValue?.compactMap(\.intValue))
            let start = 8 + length + offsets[0], end = 8 + length + offsets[1]
            tensors[name] = (try XCTUnwrap(entry["dtype"]?.stringValue), try XCTUnwrap(entry["shape"]?.arrayValue?.compactMap(\.intValue)),
                             Data(bytes[start..<end]))
        }
        return tensors
    }

    func testConvertWritesTheSafetensorsTwinAndRefusesToOverwrite() throws {
        let data = realDataPath
        let directory = TemporaryDirectory("convert")
        defer { directory.remove() }
        let output = directory.path + "/emotion.safetensors"
        let first = try runTVGeo(["convert", data + "/minilm-glue8-bin/emotion/adapter_model.bin", output], in: directory.path)
        XCTAssertEqual(first.status, 0, first.stderr)
        let twin = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/examples/minilm-glue8/adapters/emotion/adapter_model.safetensors"))
        let converted = try Data(contentsOf: URL(fileURLWithPath: output))
        XCTAssertEqual(converted.count, twin.count, "same tensors, same dtypes")
        // Tensor by tensor: the same names, dtypes, shapes and bytes as the twin PEFT saved.
        let ours = try Self.tensors(converted), theirs = try Self.tensors(twin)
        XCTAssertEqual(Set(ours.keys), Set(theirs.keys))
        XCTAssertGreaterThan(ours.count, 10)
        for (name, tensor) in theirs {
            XCTAssertEqual(ours[name]?.dtype, tensor.dtype, name)
            XCTAssertEqual(ours[name]?.shape, tensor.shape, name)
            XCTAssertEqual(ours[name]?.bytes, tensor.bytes, name)
        }
        let again = try runTVGeo(["convert", data + "/minilm-glue8-bin/emotion/adapter_model.bin", output], in: directory.path)
        XCTAssertEqual(again.status, 73, again.stderr)
        let malicious = try runTVGeo(["convert", repositoryRoot + "/Tests/Fixtures/bin/malicious.bin", directory.path + "/m.safetensors"],
                                     in: directory.path)
        XCTAssertEqual(malicious.status, 65, malicious.stderr)
        XCTAssertTrue(malicious.stderr.contains("system"), malicious.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/m.safetensors"))
    }
}

extension CommandLineTests {
    /// OpenBLAS falls back to SSE kernels on CPUs newer than itself; tvgeo then re-executes with
    /// the kernels the CPU has (BLASKernels), records which ran, and keeps a user's own choice.
    func testTheBLASKernelsThatRanAreTheCPUsAndAreRecorded() throws {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = BLASCore.cpuFlags(fromCPUInfo: info)
        // This test process loaded OpenBLAS without tvgeo's correction.
        let expected = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil
            ? BLASCore.preferredCore(current: BLASCore.coreName, cpuFlags: flags) ?? BLASCore.coreName : BLASCore.coreName
        func blas(_ environment: [String: String]) throws -> String {
            let out = directory.path + "/blas-\(environment.count)"
            let result = try runTVGeo(["analyze", "--quiet", example + "/cola", example + "/rte", "--out", out],
                                      in: directory.path, environment: environment)
            XCTAssertEqual(result.status, 0, result.stderr)
            return try XCTUnwrap(JSONParser.parse(try readFile(out + "/metrics.json"))["tool"]?["blas"]?.stringValue)
        }
        let chosen = try blas([:])
        XCTAssertTrue(chosen.hasPrefix("OpenBLAS ") && chosen.contains(" \(expected) "), "\(chosen), expected \(expected)")
        // A user's OPENBLAS_CORETYPE wins (Prescott runs everywhere on x86-64).
        if flags.contains("sse3") {
            let userChoice = try blas(["OPENBLAS_CORETYPE": "Prescott", "TVGEO_TEST": "1"])
            XCTAssertTrue(userChoice.contains(" Prescott "), userChoice)
        }
    }
}
