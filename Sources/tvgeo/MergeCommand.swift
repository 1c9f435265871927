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
        Adapter folders may hold adapter_model.safetensors or adapter_model.bin; the merge is always written as safetensors. \
        comb: lora_A = (A_i + A_j)/2, lora_B = (B_i + B_j)/2 (equal ranks and scalings; HOST's config unchanged). \
        cat: the exact average (dW_i + dW_j)/2 at rank r_i + r_j (scaling 1; r, lora_alpha and patterns rewritten); \
        a module only one adapter adapts is kept as it is (with a warning). \
        svd: that average truncated to HOST's rank (HOST's config unchanged; the truncation error is recorded). \
        An adapter whose update is zero in every block (untrained) is merged with a warning.
        tvgeo merge --all-pairs ADAPTER... --out DIR writes DIR/<host>+<partner>/ for every ordered pair that the \
        method can merge, and DIR/manifest.json and DIR/manifest.csv (host, partner, folder, method, status, reason), \
        which also list the pairs skipped (different modules, layers or shapes; comb: different ranks or scalings) \
        with their reasons; one warning counts them. The run succeeds (exit 0) when at least one pair was written \
        and nothing else failed; when no pair can be merged it stops with exit 65 and the first pair's reason.
        Exit codes: 0 success, 64 usage error, 65 invalid input data (comb or svd with different modules, different \
        layers or shapes, comb with different ranks or scalings; --all-pairs: no pair can be merged), 66 input missing \
        or unreadable, 70 internal error, 73 output cannot be written.
        """
    )

    @Option(help: "comb (average the factors), cat (exact average at rank r_i + r_j) or svd (the average truncated to the host's rank).")
    var method: MergeMethod = .comb

    @Flag(help: "Merge every ordered pair of the adapters into DIR/<host>+<partner>/ and write a manifest.")
    var allPairs = false

    @Argument(help: "HOST PARTNER (PEFT adapter folders, .safetensors or .bin, optionally as name=path), or with --all-pairs any number of adapters.")
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
            let result = try MergeRunner.runAllPairs(arguments, method: method, out: out, force: force) { done, total, entry, pairWarnings in
                for warning in pairWarnings where !warnings.contains(warning) { warnings.append(warning) }
                if !quiet { printOutput("  [\(done)/\(total)] \(entry.folder)") }
            }
            for warning in warnings { printError("tvgeo: warning: \(warning.text)") }
            let skipped = result.skipped
            if !skipped.isEmpty {
                let named = skipped.prefix(3).map { "\($0.host)+\($0.partner)" }.joined(separator: ", ") + (skipped.count > 3 ? ", …" : "")
                printError("tvgeo: warning: \(skipped.count) of \(Wording.count(result.rows.count, "ordered pair")) skipped (\(named)): "
                           + "\(method.rawValue) cannot merge them; each is listed with its reason in \(out)/manifest.json and manifest.csv")
            }
            if !quiet {
                let skippedNote = skipped.isEmpty ? "" : "\(skipped.count) skipped; "
                printOutput("wrote \(Wording.count(result.merges.count, method.rawValue + " merge")) of \(arguments.count) adapters into \(out)/ "
                      + "(\(skippedNote)manifest.json, manifest.csv) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
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
        printOutput("wrote \(out) (\(method.rawValue): host \(merged.host), partner \(merged.partner); \(details)) "
              + "in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
    }
}
