#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import JSONText
import Study
import TVGeoTestSupport
import XCTest

/// THE catalogue of bad inputs of `tvgeo report`, end to end.
///
/// Each case builds its input in a folder of its own (a copy of a real example adapter, corrupted,
/// or a generated one), runs the built executable as
/// `tvgeo report --quiet <bad> <good> --out <case>/out` and checks:
/// - the exit code (64 usage, 65 bad data, 66 missing or unreadable input);
/// - stderr is exactly one line, starting "tvgeo: error: ";
/// - that line names the file (its path) and, where there is one, the tensor / key / line, and says
///   what is wrong (the case's fragments);
/// - nothing was written: no output folder, no hidden staging folder beside it (the case folder
///   holds exactly what the case built).
///
/// A second table holds the legal but degenerate inputs: they succeed (exit 0) with a warning on
/// stderr and `null` (or the warning) in `metrics.json`.
final class BadInputCatalogueTests: XCTestCase {
    static let examples = repositoryRoot + "/examples/minilm-glue8/adapters"
    static let good = examples + "/rte"
    static let a0 = "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight"
    static let b0 = "base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight"

    /// What a case hands to the runner: the inputs (positional adapters and options, without
    /// `--out`) and the path the error must name.
    struct Built {
        var arguments: [String]
        var file: String
        /// Run as the unprivileged user `nobody` (for permission cases when the tests run as root).
        var unprivileged = false
    }

    /// One row of the catalogue.
    struct Case {
        var name: String
        var code: Int32
        /// Besides the file: the tensor, key or line (when there is one) and what is wrong.
        var fragments: [String]
        var build: (Workspace) throws -> Built

        init(_ name: String, _ code: Int32, _ fragments: [String], build: @escaping (Workspace) throws -> Built) {
            self.name = name
            self.code = code
            self.fragments = fragments
            self.build = build
        }
    }

    /// Thrown by a case's builder when the case cannot be exercised here (printed, not failed).
    struct SkipCase: Error { var reason: String }

    // MARK: - The table

    static let scores = "model,task,score\ncola,cola,0.10\nrte,rte,0.55\ncola+rte,cola,0.05\nrte+cola,rte,0.40\n"

    static var cases: [Case] { [
        // --- safetensors framing
        Case("empty safetensors file", 65, ["file is 0 bytes", "8-byte header length"]) { w in
            w.pair(w.adapter(weights: []))
        },
        Case("truncated in the length prefix", 65, ["file is 5 bytes", "8-byte header length"]) { w in
            w.pair(w.adapter(weights: Array(try w.colaWeights().prefix(5))))
        },
        Case("truncated in the header", 65, ["header", "header length 3520 exceeds the file size (1008 bytes", "truncated"]) { w in
            w.pair(w.adapter(weights: Array(try w.colaWeights().prefix(1008))))
        },
        Case("truncated in the data", 65, ["base_model.model.classifier.weight", "fall outside the data section"]) { w in
            w.pair(w.adapter(weights: Array(try w.colaWeights().dropLast(100))))
        },
        Case("header length larger than the file", 65, ["header", "header length 400000 exceeds the file size"]) { w in
            w.pair(w.adapter(editing: { $0.declaredLength = 400_000 }))
        },
        Case("absurd header length 2^62", 65, ["header", "header length 4611686018427387904 exceeds the 100000000-byte limit"]) { w in
            w.pair(w.adapter(editing: { $0.declaredLength = 1 << 62 }))
        },
        Case("header length 0", 65, ["header", "invalid JSON at byte 0", "unexpected end of input"]) { w in
            w.pair(w.adapter(weights: SafetensorsBuilder.raw(header: "", data: [])))
        },
        Case("invalid UTF-8 in the header", 65, ["header", "invalid UTF-8"]) { w in
            var bytes = try w.colaWeights()
            let at = try XCTUnwrap(firstIndex(of: "lora_A", in: bytes))
            bytes[at] = 0xFF
            return w.pair(w.adapter(weights: bytes))
        },
        Case("invalid JSON in the header", 65, ["header", "invalid JSON at byte", "unexpected character"]) { w in
            var bytes = try w.colaWeights()
            let at = try XCTUnwrap(firstIndex(of: "\"dtype\"", in: bytes))
            bytes[at - 1] = UInt8(ascii: ";")  // `{` of the first entry's object becomes `;`
            return w.pair(w.adapter(weights: bytes))
        },
        Case("header is a JSON array", 65, ["header", "the header is not a JSON object"]) { w in
            w.pair(w.adapter(weights: SafetensorsBuilder.raw(header: "[1,2]", data: [])))
        },
        Case("duplicate tensor name in the header", 65, ["header", "duplicate key", a0]) { w in
            let entry = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}"
            return w.pair(w.adapter(weights: SafetensorsBuilder.raw(header: "{\"\(a0)\":\(entry),\"\(a0)\":\(entry)}", data: [0, 0, 0, 0])))
        },
        Case("__metadata__ value not a string", 65, ["__metadata__.format", "metadata values must be strings"]) { w in
            w.pair(w.adapter(editing: { $0.header[0].1 = .object([("format", .int(1))]) }))
        },
        Case("tensor name with a newline (escaped in the JSON)", 65, ["evil\\nname", "unknown dtype \"X\""]) { w in
            w.pair(w.adapter(editing: { file in
                file.header.append(("evil\nname", .object([("dtype", .string("X")), ("shape", .array([])),
                                                           ("data_offsets", .array([.int(0), .int(0)]))])))
            }))
        },
        Case("tensor name with a terminal escape", 65, ["\\u{1b}[2J", "unknown dtype \"X\""]) { w in
            w.pair(w.adapter(editing: { file in
                file.header.append(("\u{1B}[2J", .object([("dtype", .string("X")), ("shape", .array([])),
                                                          ("data_offsets", .array([.int(0), .int(0)]))])))
            }))
        },
        // --- header entries
        Case("entry missing dtype", 65, [a0, "missing or non-string \"dtype\""]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.removeAll { $0.0 == "dtype" } } }))
        },
        Case("entry missing shape", 65, [a0, "missing or non-array \"shape\""]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.removeAll { $0.0 == "shape" } } }))
        },
        Case("entry missing data_offsets", 65, [a0, "\"data_offsets\" must be two integers"]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.removeAll { $0.0 == "data_offsets" } } }))
        },
        Case("extra unknown key in an entry", 65, [a0, "unexpected key \"quantization\""]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.append(("quantization", .string("nf4"))) } }))
        },
        Case("unknown dtype", 65, [a0, "unknown dtype \"F128\""]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.set("dtype", .string("F128")) } }))
        },
        Case("integer dtype on a LoRA factor", 65, [a0, "dtype I32 is not a floating-point type"]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.set("dtype", .string("I32")) } }))
        },
        Case("offsets out of range", 65, [a0, "data_offsets [0, 1000000000] fall outside the data section (297992 bytes)"]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.set("data_offsets", .array([.int(0), .int(1_000_000_000)])) } }))
        },
        Case("offsets reversed (begin > end)", 65, [a0, "data_offsets [12288, 0] fall outside the data section"]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.set("data_offsets", .array([.int(12288), .int(0)])) } }))
        },
        Case("overlapping offsets", 65, [b0, "data_offsets 12000..<24288 overlap tensor \(a0)"]) { w in
            w.pair(w.adapter(editing: { $0.edit(b0) { $0.set("data_offsets", .array([.int(12000), .int(24288)])) } }))
        },
        Case("offsets not covering the data section (trailing bytes)", 65,
             ["header", "tensors cover 297992 bytes but the data section holds 298008"]) { w in
            w.pair(w.adapter(editing: { $0.data += [UInt8](repeating: 0, count: 16) }))
        },
        Case("offsets leaving a gap", 65, [b0, "data_offsets start at 12296 but the previous tensor ends at 12288", "belong to no tensor"]) { w in
            w.pair(w.adapter(editing: { file in
                // Every tensor after the first moves 8 bytes on: bytes 12288..<12296 belong to none.
                file.shiftOffsets(after: a0, by: 8)
                file.data.insert(contentsOf: [UInt8](repeating: 0, count: 8), at: 12288)
            }))
        },
        Case("shape × dtype size ≠ byte length", 65, [a0, "shape [8, 383] × F32 (4 bytes) needs 12256 bytes but data_offsets span 12288"]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.set("shape", .array([.int(8), .int(383)])) } }))
        },
        Case("negative dimension", 65, [a0, "shape [-8, 384] has a dimension that is not a non-negative integer"]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.set("shape", .array([.int(-8), .int(384)])) } }))
        },
        Case("fractional dimension", 65, [a0, "has a dimension that is not a non-negative integer"]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.set("shape", .array([.double(8.5), .int(384)])) } }))
        },
        Case("huge dimension", 65, [a0, "needs more bytes than the data section holds"]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.set("shape", .array([.int(1 << 62), .int(1 << 62)])) } }))
        },
        Case("empty dimension", 65, [a0, "empty dimension"]) { w in
            w.pair(w.adapter(editing: { $0.rewrite(a0, shape: [0, 384], bytes: []); $0.rewrite(b0, shape: [384, 0], bytes: []) }))
        },
        // --- values
        Case("NaN in a weight", 65, [a0, "element 5 (of 3072) is nan", "must be finite"]) { w in
            w.pair(w.adapter(editing: { $0.setFloat(a0, element: 5, .nan) }))
        },
        Case("+∞ in a weight", 65, [b0, "element 7 (of 3072) is inf", "must be finite"]) { w in
            w.pair(w.adapter(editing: { $0.setFloat(b0, element: 7, .infinity) }))
        },
        // --- LoRA structure
        Case("lora_A without lora_B", 65, [a0, "lora_A without its lora_B"]) { w in
            w.pair(w.adapter(editing: { $0.rewrite(b0, shape: nil, bytes: nil) }))
        },
        Case("lora_B without lora_A", 65, [b0, "lora_B without its lora_A"]) { w in
            w.pair(w.adapter(editing: { $0.rewrite(a0, shape: nil, bytes: nil) }))
        },
        Case("A/B rank mismatch", 65, [b0, "rank mismatch: lora_B is 384×4 but lora_A is 8×384"]) { w in
            w.pair(w.adapter(editing: { $0.rewrite(b0, shape: [384, 4], bytes: [UInt8](repeating: 0, count: 384 * 4 * 4)) }))
        },
        Case("1-D lora tensor", 65, [a0, "LoRA factor has shape [3072]; expected a 2-D matrix"]) { w in
            w.pair(w.adapter(editing: { $0.edit(a0) { $0.set("shape", .array([.int(3072)])) } }))
        },
        Case("no LoRA tensors at all", 65, ["no LoRA tensors"]) { w in
            w.pair(w.adapter(editing: { file in
                for name in file.names where name.contains("lora_") { file.rewrite(name, shape: nil, bytes: nil) }
            }))
        },
        // --- adapter_config.json
        Case("folder without adapter_config.json", 66, ["adapter_config.json", "no such file"]) { w in
            let folder = w.adapter()
            try FileManager.default.removeItem(atPath: folder + "/adapter_config.json")
            return Built(arguments: [folder, good], file: folder + "/adapter_config.json")
        },
        Case("config r disagrees with the tensors", 65,
             ["lora_A.weight", "adapter_config.json gives rank 4 for this module but lora_A has 8 rows"]) { w in
            w.pair(w.adapter(config: { $0.set("r", .int(4)) }))
        },
        Case("config is not JSON", 65, ["invalid JSON at byte"]) { w in
            let folder = w.adapter()
            w.write("bad/adapter_config.json", text: "{\"r\": 8,")
            return Built(arguments: [folder, good], file: folder + "/adapter_config.json")
        },
        Case("config without r", 65, ["r: missing LoRA rank \"r\""]) { w in
            let folder = w.adapter(config: { $0.removeAll { $0.0 == "r" } })
            return Built(arguments: [folder, good], file: folder + "/adapter_config.json")
        },
        Case("config of another PEFT method", 65, ["peft_type", "PEFT type IA3 is not supported"]) { w in
            let folder = w.adapter(config: { $0.set("peft_type", .string("IA3")) })
            return Built(arguments: [folder, good], file: folder + "/adapter_config.json")
        },
        // --- shapes across adapters
        Case("adapters of different shapes", 65, ["ΔW is 384×384 here but 16×16", "different base models cannot be compared"]) { w in
            var fixture = AdapterFixture(rank: 2, alpha: 4)
            var random = SeededRandom(seed: 7)
            for layer in 0..<6 {
                for module in ["query", "value"] {
                    fixture.addModule(layer: layer, module: module, b: random.gaussians(32), a: random.gaussians(32),
                                      outFeatures: 16, inFeatures: 16, dtype: .f32)
                }
            }
            let folder = fixture.write(into: w.directory, name: w.folder + "/tiny")
            return Built(arguments: [folder, good], file: folder + "/adapter_model.safetensors")
        },
        // --- the command line and the file system
        Case("adapters of two base models that share no block", 65,
             ["2 base models that share no LoRA module and layer", "gpt2 (appreviews_gurvineet_epoch1)", "run one study per base model"]) { _ in
            let gpt2 = repositoryRoot + "/Tests/Fixtures/real/third-party/gpt2/appreviews_gurvineet_epoch1"
            return Built(arguments: [good, gpt2], file: good)
        },
        Case("an explicit --subspace-rank larger than the weights", 64, ["--subspace-rank 500 exceeds the size of", "use at most 384"]) { _ in
            let fft = repositoryRoot + "/Tests/Fixtures/real/minilm-fullft"
            return Built(arguments: ["--base", fft + "/base.safetensors", fft + "/sst2", fft + "/irony", "--subspace-rank", "500"],
                         file: fft + "/base.safetensors")
        },
        Case("same task name twice", 64, ["task name \"cola\" is given twice", good]) { w in
            let cola = examples + "/cola"
            return Built(arguments: [cola, "cola=" + good], file: cola)
        },
        Case("empty folder", 66, ["no such file", "PEFT adapter folder"]) { w in
            let folder = w.path + "/empty"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            return Built(arguments: [folder, good], file: folder)
        },
        Case("a directory where adapter_model.safetensors is expected", 66, ["is a directory", "expected a .safetensors file"]) { w in
            let folder = w.adapter()
            let weights = folder + "/adapter_model.safetensors"
            try FileManager.default.removeItem(atPath: weights)
            try FileManager.default.createDirectory(atPath: weights, withIntermediateDirectories: true)
            return Built(arguments: [folder, good], file: weights)
        },
        Case("a directory named .safetensors given as the adapter", 66, ["adapter_model.safetensors: no such file"]) { w in
            let folder = w.path + "/weights.safetensors"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            return Built(arguments: [folder, good], file: folder)
        },
        Case("a full checkpoint folder without --base", 66, ["sst2/adapter_model.safetensors: no such file",
                                                              "it holds a full checkpoint (model.safetensors), not LoRA factors; "
                                                              + "for full fine-tuning pass the base checkpoint with --base"]) { w in
            let checkpoint = repositoryRoot + "/Tests/Fixtures/real/minilm-fullft/sst2"
            return Built(arguments: [checkpoint, good], file: checkpoint)
        },
        Case("a sharded checkpoint folder without --base", 66, ["it holds a full checkpoint (model.safetensors.index.json)",
                                                                 "pass the base checkpoint with --base"]) { w in
            w.write("sharded/model.safetensors.index.json", text: "{\"weight_map\": {}}\n")
            return Built(arguments: [w.path + "/sharded", good], file: w.path + "/sharded")
        },
        Case("a FIFO given as the adapter", 66, ["is not a regular file"]) { w in
            let fifo = w.path + "/pipe.safetensors"
            guard mkfifo(fifo, 0o644) == 0 else { throw SkipCase(reason: "mkfifo failed (errno \(errno))") }
            return Built(arguments: [fifo, good], file: fifo)
        },
        Case("unreadable file (chmod 000)", 66, ["permission denied"]) { w in
            let folder = w.adapter()
            let weights = folder + "/adapter_model.safetensors"
            chmod(weights, 0)
            // As root, chmod 000 does not stop reads: the run then drops to `nobody` (setpriv).
            var asNobody = false
            if let handle = fopen(weights, "rb") {
                fclose(handle)
                guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
                    chmod(weights, 0o644)
                    throw SkipCase(reason: "chmod 000 does not stop reads here, and setpriv cannot drop root")
                }
                asNobody = true
            }
            return Built(arguments: [folder, good], file: weights, unprivileged: asNobody)
        },
        Case("missing path", 66, ["no such file or directory"]) { w in
            Built(arguments: [w.path + "/nowhere", good], file: w.path + "/nowhere")
        },
        // --- scores (--scores FILE.csv), with two good adapters
        Case("scores: missing column", 65, ["line 1", "missing column score"]) { w in
            w.scores("model,task,value\ncola,cola,0.1\n")
        },
        Case("scores: duplicate row", 65, ["line 6", "duplicate score for cola on cola (first on line 2)"]) { w in
            w.scores(scores + "cola,cola,0.20\n")
        },
        Case("scores: text in the score column", 65, ["line 3", "score \"high\" is not a finite number"]) { w in
            w.scores(scores.replacingOccurrences(of: "rte,rte,0.55", with: "rte,rte,high"))
        },
        Case("scores: NaN score", 65, ["line 2", "score \"nan\" is not a finite number"]) { w in
            w.scores(scores.replacingOccurrences(of: "cola,cola,0.10", with: "cola,cola,nan"))
        },
        Case("scores: no row about the study's tasks", 65, ["none of its 3 rows is about this study's tasks (cola, rte) alone",
                                                             "they name qnli, sst2", "is this the scores file of another study?"]) { w in
            w.scores("model,task,score\nqnli,qnli,0.3\nqnli+sst2,qnli,0.2\ncola+qnli,qnli,0.1\n")
        },
        Case("scores: a model that does not fit its task", 65, ["line 6", "model \"cola+sst2\" does not fit task rte"]) { w in
            w.scores(scores + "cola+sst2,rte,0.3\n")
        },
        Case("scores: a model with a Cyrillic look-alike letter", 65, ["line 6", "model \"cola+rt\\u{0435}\" does not fit task rte"]) { w in
            w.scores(scores + "cola+rt\u{0435},rte,0.3\n")
        },
        Case("scores: unterminated quote", 65, ["line 6", "unterminated quoted field"]) { w in
            w.scores(scores + "\"cola,cola,0.3\n")
        },
        Case("scores: a quoted model name with a line break", 65, ["line 6", "model \"cola\\nx\" does not fit task cola"]) { w in
            w.scores(scores + "\"cola\nx\",cola,0.3\n")
        },
        Case("scores: not UTF-8", 65, ["not UTF-8 text"]) { w in
            w.scores(bytes: Array(scores.utf8) + [0xFF, 0xFE, 0x0A])
        },
        Case("scores: missing file", 66, ["no such file or directory"]) { w in
            let path = w.path + "/no-scores.csv"
            return Built(arguments: [examples + "/cola", good, "--scores", path], file: path)
        },
        Case("scores: a directory", 66, ["is a directory"]) { w in
            let path = w.path + "/scores.csv"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return Built(arguments: [examples + "/cola", good, "--scores", path], file: path)
        },
        // --- report templates (--templates DIR)
        Case("a template with an unclosed section", 65, ["my-templates/section.mustache: line 3, column 7: unclosed section \"figures\""]) { w in
            w.write("my-templates/section.mustache", text: "<section>\n  <h2>{{title}}</h2>\n  <ul>{{#figures}}<li>{{name}}</li>\n</section>\n")
            return Built(arguments: [examples + "/cola", good, "--templates", "my-templates"], file: "my-templates/section.mustache")
        },
    ] }

    /// Legal inputs: they must succeed (exit 0), warn on stderr and show it in `metrics.json`.
    struct Accepted {
        var name: String
        /// Fragments of the warnings expected on stderr (lines "tvgeo: warning: …").
        var warnings: [String]
        var build: (Workspace) throws -> [String]
        var check: (JSONValue) throws -> Void
    }

    static var accepted: [Accepted] { [
        Accepted(name: "scores with a UTF-8 BOM and CRLF line ends", warnings: []) { w in
            w.scores("\u{FEFF}" + scores.replacingOccurrences(of: "\n", with: "\r\n")).arguments
        } check: { metrics in
            // δ(cola, rte) = 0.10 − 0.05, δ(rte, cola) = 0.55 − 0.40.
            let delta = try XCTUnwrap(metrics["delta"]?.arrayValue)
            XCTAssertEqual(delta[0].arrayValue?[1].numberValue ?? .nan, 0.05, accuracy: 1e-12)
            XCTAssertEqual(delta[1].arrayValue?[0].numberValue ?? .nan, 0.15, accuracy: 1e-12)
        },
        Accepted(name: "scores about more tasks than the study",
                 warnings: ["scores.csv: 3 rows name tasks outside this study (qnli, sst2, rtee) and are left out; "
                            + "did you mean rte instead of rtee?"]) { w in
            w.scores(scores + "qnli,qnli,0.3\ncola+sst2,cola,0.3\nrtee,rtee,0.5\n").arguments
        } check: { metrics in
            let warnings = metrics["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
            XCTAssertTrue(warnings.contains { $0.hasSuffix("did you mean rte instead of rtee?") }, "\(warnings)")
            XCTAssertEqual(metrics["scores"]?.arrayValue?.count, 4, "the rows about cola and rte")
        },
        Accepted(name: "scores naming a task with a Cyrillic look-alike letter",
                 warnings: ["scores.csv: 2 rows name tasks outside this study (rt\\u{0435}) and are left out; "
                            + "did you mean rte instead of rt\\u{0435}?"]) { w in
            w.scores(scores + "rt\u{0435},rt\u{0435},0.5\ncola+rt\u{0435},cola,0.3\n").arguments
        } check: { metrics in
            XCTAssertEqual(metrics["scores"]?.arrayValue?.count, 4, "the rows about cola and rte")
        },
        Accepted(name: "lora_B all zeros (an untrained adapter)",
                 warnings: ["untrained: ΔW = s·B·A is zero in module query at layers 0, 1, 2, 3, 4, 5; "
                            + "cosine, grassmann and comb_shift are undefined there (null)",
                            "untrained: lora_B is zero in module value"]) { w in
            let folder = w.adapter("untrained", editing: { file in
                for name in file.names where name.contains("lora_B") { file.zero(name) }
            })
            return [folder, good]
        } check: { metrics in
            for module in ["query", "value"] {
                for metric in ["cosine", "grassmann", "grassmann_b"] {
                    let mean = metrics["distances"]?[metric]?[module]?["mean"]
                    XCTAssertEqual(mean?.arrayValue?[0].arrayValue?[1], .null, "\(metric) \(module)")
                    XCTAssertEqual(mean?.arrayValue?[1].arrayValue?[0], .null, "\(metric) \(module)")
                }
                // L2 and the Grassmann distance of the A factors stay defined.
                for metric in ["l2", "grassmann_a"] {
                    let value = metrics["distances"]?[metric]?[module]?["mean"]?.arrayValue?[0].arrayValue?[1].numberValue
                    XCTAssertNotNil(value, "\(metric) \(module)")
                }
            }
            let warnings = metrics["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
            XCTAssertTrue(warnings.contains { $0.contains("ΔW = s·B·A is zero") }, "\(warnings)")
        },
        Accepted(name: "different base_model_name_or_path, equal shapes",
                 warnings: ["adapters name different base models", "other: bert-base-uncased", "rte: sentence-transformers/all-MiniLM-L6-v2"]) { w in
            [w.adapter("other", config: { $0.set("base_model_name_or_path", .string("bert-base-uncased")) }), good]
        } check: { metrics in
            let warnings = metrics["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
            XCTAssertTrue(warnings.contains { $0.contains("bert-base-uncased") && $0.contains("sentence-transformers/all-MiniLM-L6-v2") },
                          "\(warnings)")
            XCTAssertEqual(metrics["adapters"]?.arrayValue?[0]["base_model"], .string("bert-base-uncased"))
        },
        Accepted(name: "base model name with a line break (the warning stays one line)",
                 warnings: ["adapters name different base models", "other: bert\\nbase"]) { w in
            [w.adapter("other", config: { $0.set("base_model_name_or_path", .string("bert\nbase")) }), good]
        } check: { metrics in
            XCTAssertEqual(metrics["adapters"]?.arrayValue?[0]["base_model"], .string("bert\nbase"), "the data keeps the name as it is")
        },
    ] }

    // MARK: - Running the tables

    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory("bad-input") }
    override func tearDown() {
        // A chmod 000 file must be deletable by a non-root user too.
        if let walker = FileManager.default.enumerator(atPath: directory.path) {
            for case let relative as String in walker { chmod(directory.path + "/" + relative, 0o755) }
        }
        directory.remove()
    }

    func testEveryBadInputIsRefusedWithOneLineAndNoOutput() throws {
        XCTAssertEqual(Set(Self.cases.map(\.name)).count, Self.cases.count, "case names are unique")
        for (index, item) in Self.cases.enumerated() {
            let workspace = Workspace(directory, folder: String(format: "%02d", index))
            let built: Built
            do {
                built = try item.build(workspace)
            } catch let skip as SkipCase {
                print("BadInputCatalogue: skipped \"\(item.name)\": \(skip.reason)")
                continue
            }
            let before = try workspace.entries()
            let out = workspace.path + "/out"
            let result = built.unprivileged
                ? try runTVGeoAsNobody(["report", "--quiet"] + built.arguments + ["--out", out], workspace: workspace.path,
                                     bin: directory.path + "/.bin")
                : try runTVGeo(["report", "--quiet"] + built.arguments + ["--out", out], in: workspace.path)
            let context = "[\(item.name)] exit \(result.status), stderr: \(result.stderr)"
            if ProcessInfo.processInfo.environment["TVGEO_CATALOGUE_VERBOSE"] != nil { print("CATALOGUE \(context)", terminator: "") }
            XCTAssertEqual(result.status, item.code, context)
            XCTAssertTrue(result.stderr.hasPrefix("tvgeo: error: "), context)
            XCTAssertTrue(result.stderr.hasSuffix("\n") && !result.stderr.dropLast().contains("\n"), "exactly one line: \(context)")
            XCTAssertTrue(result.stderr.contains(built.file), "names the file \(built.file): \(context)")
            for fragment in item.fragments {
                XCTAssertTrue(result.stderr.contains(fragment), "says \"\(fragment)\": \(context)")
            }
            XCTAssertEqual(result.stdout, "", context)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no output folder: \(context)")
            XCTAssertEqual(try workspace.entries(), before, "nothing written beside it (no staging folder): \(context)")
        }
    }

    func testDegenerateButLegalInputsSucceedWithAWarning() throws {
        for (index, item) in Self.accepted.enumerated() {
            let workspace = Workspace(directory, folder: "ok\(index)")
            let arguments = try item.build(workspace)
            let out = workspace.path + "/out"
            let result = try runTVGeo(["report", "--quiet"] + arguments + ["--out", out], in: workspace.path)
            let context = "[\(item.name)] exit \(result.status), stderr: \(result.stderr)"
            if ProcessInfo.processInfo.environment["TVGEO_CATALOGUE_VERBOSE"] != nil { print("CATALOGUE \(context)", terminator: "") }
            XCTAssertEqual(result.status, 0, context)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("tvgeo: warning: ") }, context)
            for fragment in item.warnings {
                XCTAssertTrue(lines.contains { $0.contains(fragment) }, "warns \"\(fragment)\": \(context)")
            }
            // With the per-layer matrices inline (`tvgeo export --json-layers`), read from layers.safetensors.
            let metrics = try LayersExport.inlineDocument(folder: out)
            try item.check(metrics)
            XCTAssertEqual(try workspace.entries().filter { $0.contains("tvgeo-tmp") || $0.contains("tvgeo-old") }, [], context)
        }
    }

    /// First byte index of `text` in `bytes`.
    static func firstIndex(of text: String, in bytes: [UInt8]) -> Int? {
        let needle = Array(text.utf8)
        guard bytes.count >= needle.count else { return nil }
        return (0...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}

// MARK: - Building the inputs

/// One case's folder and the builders that write into it.
final class Workspace {
    let directory: TemporaryDirectory
    /// The case folder, relative to `directory`.
    let folder: String
    var path: String { directory.path + "/" + folder }

    init(_ directory: TemporaryDirectory, folder: String) {
        self.directory = directory
        self.folder = folder
        try! FileManager.default.createDirectory(atPath: directory.path + "/" + folder, withIntermediateDirectories: true)
    }

    /// Everything in the case folder, hidden entries included.
    func entries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    @discardableResult
    func write(_ relative: String, bytes: [UInt8]) -> String { directory.write(folder + "/" + relative, bytes: bytes) }

    @discardableResult
    func write(_ relative: String, text: String) -> String { directory.write(folder + "/" + relative, text: text) }

    func colaWeights() throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: BadInputCatalogueTests.examples + "/cola/adapter_model.safetensors")))
    }

    /// A copy of the cola example at `<case>/<name>/`, its config edited by `config` and its
    /// weights replaced by `weights` or edited by `editing`.
    func adapter(_ name: String = "bad", config: ((inout [(String, JSONValue)]) -> Void)? = nil,
                 weights: [UInt8]? = nil, editing: ((inout SafetensorsParts) -> Void)? = nil) -> String {
        let source = BadInputCatalogueTests.examples + "/cola"
        var configPairs = try! JSONParser.parse(Array(try! Data(contentsOf: URL(fileURLWithPath: source + "/adapter_config.json")))).objectPairs!
        config?(&configPairs)
        write(name + "/adapter_config.json", text: JSONWriter.string(.object(configPairs)))
        var bytes = try! weights ?? colaWeights()
        if let editing {
            var parts = SafetensorsParts(bytes)
            editing(&parts)
            bytes = parts.bytes()
        }
        write(name + "/adapter_model.safetensors", bytes: bytes)
        return path + "/" + name
    }

    /// `[folder, good]`, the error naming the folder's safetensors file.
    func pair(_ folder: String) -> BadInputCatalogueTests.Built {
        .init(arguments: [folder, BadInputCatalogueTests.good], file: folder + "/adapter_model.safetensors")
    }

    /// Two good adapters (cola, rte) with a scores file of this text.
    func scores(_ text: String) -> BadInputCatalogueTests.Built { scores(bytes: Array(text.utf8)) }

    func scores(bytes: [UInt8]) -> BadInputCatalogueTests.Built {
        let file = write("scores.csv", bytes: bytes)
        return .init(arguments: [BadInputCatalogueTests.examples + "/cola", BadInputCatalogueTests.good, "--scores", file], file: file)
    }
}

/// A safetensors file taken apart: its header entries (in order) and data section, written back
/// with a correct length prefix unless `declaredLength` says otherwise.
struct SafetensorsParts {
    var header: [(String, JSONValue)]
    var data: [UInt8]
    var declaredLength: UInt64?

    init(_ bytes: [UInt8]) {
        var length = 0
        for offset in 0..<8 { length |= Int(bytes[offset]) << (8 * offset) }
        header = try! JSONParser.parse(bytes[8..<(8 + length)]).objectPairs!
        data = Array(bytes[(8 + length)...])
    }

    func bytes() -> [UInt8] {
        SafetensorsBuilder.raw(header: SafetensorsBuilder.compact(.object(header)), data: data, declaredLength: declaredLength)
    }

    var names: [String] { header.map(\.0).filter { $0 != "__metadata__" } }

    mutating func edit(_ tensor: String, _ change: (inout [(String, JSONValue)]) -> Void) {
        let index = header.firstIndex { $0.0 == tensor }!
        var fields = header[index].1.objectPairs!
        change(&fields)
        header[index].1 = .object(fields)
    }

    func range(_ tensor: String) -> Range<Int> {
        let offsets = header.first { $0.0 == tensor }!.1["data_offsets"]!.arrayValue!.map { $0.intValue! }
        return offsets[0]..<offsets[1]
    }

    /// Adds `delta` to the offsets of every tensor stored after `tensor`.
    mutating func shiftOffsets(after tensor: String, by delta: Int) {
        let end = range(tensor).upperBound
        for name in names where range(name).lowerBound >= end {
            let moved = range(name)
            edit(name) { $0.set("data_offsets", .array([.int(moved.lowerBound + delta), .int(moved.upperBound + delta)])) }
        }
    }

    /// Replaces a tensor's shape and bytes (nil bytes: removes it), keeping the file valid.
    mutating func rewrite(_ tensor: String, shape: [Int]?, bytes: [UInt8]?) {
        let old = range(tensor)
        let delta = (bytes?.count ?? 0) - old.count
        shiftOffsets(after: tensor, by: delta)
        data.replaceSubrange(old, with: bytes ?? [])
        if let bytes {
            edit(tensor) {
                if let shape { $0.set("shape", .array(shape.map(JSONValue.int))) }
                $0.set("data_offsets", .array([.int(old.lowerBound), .int(old.lowerBound + bytes.count)]))
            }
        } else {
            header.removeAll { $0.0 == tensor }
        }
    }

    /// Sets element `element` of an F32 tensor.
    mutating func setFloat(_ tensor: String, element: Int, _ value: Float) {
        let at = range(tensor).lowerBound + 4 * element
        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.replaceSubrange(at..<(at + 4), with: $0) }
    }

    mutating func zero(_ tensor: String) {
        let span = range(tensor)
        data.replaceSubrange(span, with: [UInt8](repeating: 0, count: span.count))
    }
}

extension Array where Element == (String, JSONValue) {
    /// Replaces the value of `key`, or appends it.
    mutating func set(_ key: String, _ value: JSONValue) {
        if let index = firstIndex(where: { $0.0 == key }) { self[index].1 = value } else { append((key, value)) }
    }
}
