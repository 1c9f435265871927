import Foundation
import JSONText
import Study
import TVGeoTestSupport
import XCTest

/// End to end: a study of both kinds (`--base … --lora …`) on the real MiniLM data, and its refusals.
final class CrossKindCommandTests: XCTestCase {
    static let fft = "Tests/Fixtures/real/minilm-fullft"
    static let lora = "examples/minilm-glue8/adapters"

    func bothKinds(_ tasks: [String]) -> [String] {
        ["--base", Self.fft + "/base.safetensors"] + tasks.map { Self.fft + "/" + $0 } + ["--lora"] + tasks.map { Self.lora + "/" + $0 }
    }

    func temporaryFolder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tvgeo-crosskind-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    /// The report of one module: the poster's table, the cross-kind figures, the intruder figure and
    /// table, each kind's sections labelled, and metrics.json with the blocks.
    func testReportOfBothKinds() throws {
        let out = try temporaryFolder() + "/both"
        let outcome = try runTVGeo(["report"] + bothKinds(["sst2", "emotion", "irony"])
                                   + ["--scores", Self.fft + "/scores.csv", "--lora-scores", "examples/minilm-glue8/scores.csv",
                                      "--modules", "query", "--formats", "html,csv,json", "--out", out, "-q"], in: repositoryRoot)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        for text in ["Scores: full fine-tuning and LoRA", "LoRA against full fine-tuning", "Intruder dimensions",
                     "Full fine-tuning · Summary", "LoRA · Summary", "crosskind-heatmap-cosine-query", "crosskind-profile-grassmann-query",
                     "intruders-query", "fft-heatmap-cosine-query", "lora-heatmap-cosine-query"] {
            XCTAssertTrue(html.contains(text), "report.html lacks \(text)")
        }
        let scores = try String(contentsOfFile: out + "/tables/kind-scores.csv", encoding: .utf8)
        XCTAssertEqual(scores.split(separator: "\n").first, "task,fft,lora,difference,mean")
        XCTAssertTrue(scores.contains("sst2,84.6667,84.1667,"), scores)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/tables/intruders-query.csv"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/tables/crosskind-layers.csv"))
        let metrics = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))))
        XCTAssertEqual(metrics["schema"]?.stringValue, "tvgeo.kinds/2")
        for kind in ["fft", "lora"] {
            XCTAssertEqual(metrics["kinds"]?[kind]?["layers_file"]?["path"]?.stringValue, "\(kind)/layers.safetensors")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/\(kind)/layers.safetensors"), kind)
        }
        // The inline layout of version 1, each kind's matrices read back from its sidecar.
        let inline = try LayersExport.inlineDocument(folder: out)
        XCTAssertEqual(inline["schema"]?.stringValue, "tvgeo.kinds/1")
        XCTAssertEqual(inline["kinds"]?["lora"]?["distances"]?["cosine"]?["query"]?["mean"]?.arrayValue?.count,
                       inline["kinds"]?["lora"]?["tasks"]?.arrayValue?.count)
        XCTAssertEqual(metrics["crosskind"]?["cosine"]?["query"]?["matching"]?.numberValue, 1)
        XCTAssertEqual(metrics["intruders"]?["k"]?.intValue, 10)
        XCTAssertEqual(metrics["kind_scores"]?["irony"]?["lora"]?.numberValue, 66.3737)
        XCTAssertNotNil(metrics["provenance"])
    }

    func testNoSharedTaskIsInvalidData() throws {
        let outcome = try runTVGeo(["analyze", "--base", Self.fft + "/base.safetensors", Self.fft + "/sst2", "--lora", Self.lora + "/cola",
                                    "--out", try temporaryFolder() + "/x"], in: repositoryRoot)
        XCTAssertEqual(outcome.status, 65, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("(cola)") && outcome.stderr.contains("(sst2)"), outcome.stderr)
    }

    func testIntruderOptionsAreChecked() throws {
        let folder = try temporaryFolder()
        for (arguments, message) in [(bothKinds(["sst2"]) + ["--intruder-k", "0"], "--intruder-k"),
                                     (bothKinds(["sst2"]) + ["--intruder-epsilon", "1.5"], "--intruder-epsilon"),
                                     ([Self.lora + "/sst2", "--lora-scores", "x.csv"], "--lora-scores"),
                                     ([Self.lora + "/sst2", "--lora", Self.lora + "/irony"], "--base")] {
            let outcome = try runTVGeo(["analyze"] + arguments + ["--out", folder + "/x"], in: repositoryRoot)
            XCTAssertEqual(outcome.status, 64, "\(arguments): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(message), outcome.stderr)
        }
    }
}
