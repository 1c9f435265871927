import ArgumentParser
import Diagnostics
import Foundation
import Study

extension MergeMethod: ExpressibleByArgument {}

struct Merge: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge two LoRA adapters into a PEFT adapter folder hosted by the first (comb, cat or svd).",
        discussion: """
        tvgeo merge [--method comb|cat|svd] HOST PARTNER --out DIR writes DIR/adapter_config.json, \
        DIR/adapter_model.safetensors and DIR/tvgeo-merge.json: HOST's LoRA tensors replaced by the merge, \
        HOST's other tensors (classifier heads) and tensor names kept, loadable with PeftModel.from_pretrained. \
        comb: lora_A = (A_i + A_j)/2, lora_B = (B_i + B_j)/2 (equal ranks and scalings; HOST's config unchanged). \
        cat: the exact average (dW_i + dW_j)/2 at rank r_i + r_j (scaling 1; r, lora_alpha and patterns rewritten). \
        svd: that average truncated to HOST's rank (HOST's config unchanged; the truncation error is recorded).
        tvgeo merge --all-pairs ADAPTER... --out DIR writes DIR/<host>+<partner>/ for every ordered pair and \
        DIR/manifest.json and DIR/manifest.csv (host, partner, folder, method).
        Exit codes: 0 success, 64 usage error, 65 invalid input data (different modules or shapes, comb with \
        different ranks or scalings), 66 input missing or unreadable, 70 internal error, 73 output cannot be written.
        """
    )

    @Option(help: "comb (average the factors), cat (exact average at rank r_i + r_j) or svd (the average truncated to the host's rank).")
    var method: MergeMethod = .comb

    @Flag(help: "Merge every ordered pair of the adapters into DIR/<host>+<partner>/ and write a manifest.")
    var allPairs = false

    @Argument(help: "HOST PARTNER (PEFT adapter folders, optionally as name=path), or with --all-pairs any number of adapters.")
    var adapters: [String] = []

    @Option(help: "Output folder: the merged adapter folder, or with --all-pairs the folder of all merges.")
    var out: String?

    @Flag(help: forceHelp)
    var force = false

    @Flag(name: .shortAndLong, help: "Print only warnings and errors.")
    var quiet = false

    func execute() throws(ToolError) {
        guard let out, !out.isEmpty else { throw .usage("give the output folder with --out DIR") }
        let arguments = adapters.map(AdapterArgument.init(parsing:))
        let started = Date()
        if allPairs {
            guard arguments.count >= 2 else { throw .usage("--all-pairs needs at least two adapters") }
            var warnings: [Warning] = []
            let entries = try MergeRunner.runAllPairs(arguments, method: method, out: out, force: force) { done, total, entry, pairWarnings in
                for warning in pairWarnings where !warnings.contains(warning) { warnings.append(warning) }
                if !quiet { print("  [\(done)/\(total)] \(entry.folder)") }
            }
            for warning in warnings { printError("tvgeo: warning: \(warning.text)") }
            if !quiet {
                print("wrote \(entries.count) \(method.rawValue) merges of \(arguments.count) adapters into \(out)/ (manifest.json, manifest.csv) "
                      + "in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
            }
            return
        }
        guard arguments.count == 2 else {
            throw .usage("give two adapters, HOST then PARTNER (got \(arguments.count)), or use --all-pairs")
        }
        let merged = try MergeRunner.run(host: arguments[0], partner: arguments[1], method: method, out: out, force: force)
        for warning in merged.warnings { printError("tvgeo: warning: \(warning.text)") }
        guard !quiet else { return }
        var details = "\(merged.blocks.count) blocks, \(merged.keptTensors.count) host tensors kept, "
                      + "config \(merged.configUnchanged ? "unchanged" : "rewritten")"
        if method == .svd, let worst = merged.blocks.compactMap(\.truncationError).filter({ !$0.isNaN }).max() {
            details += String(format: ", largest truncation error %.3g", worst)
        }
        print("wrote \(out) (\(method.rawValue): host \(merged.host), partner \(merged.partner); \(details)) "
              + "in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
    }
}
