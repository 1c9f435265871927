import AnalysisCore
import ArgumentParser
import Diagnostics
import Foundation
import Study

/// The options that name a study, shared by `analyze` and `report`.
struct StudyOptions: ParsableArguments {
    @Argument(help: "Adapter folders or .safetensors files (with --base: fine-tuned checkpoints), optionally as name=path.")
    var adapters: [String] = []

    @Option(help: "Study name (default: the adapters' common parent folder).")
    var name: String?

    @Option(help: "Output folder (default: output/<name>).")
    var out: String?

    @Option(help: ArgumentHelp("Evaluation scores (CSV with model,task,score[,metric]): "
                               + "adds merge losses δ(i,j) and their correlations with each distance.", valueName: "file.csv"))
    var scores: String?

    @Option(help: ArgumentHelp("Modules to compare, comma-separated, as tvgeo names them (default: every module the adapters share; "
                               + "with --base: query,value / q_lin,v_lin / q_proj,v_proj, whichever exist).", valueName: "names"))
    var modules: String?

    @Option(help: ArgumentHelp("Full fine-tuning: the base checkpoint (a .safetensors file, a folder with model.safetensors, or a sharded folder); "
                               + "each ADAPTER is then a fine-tuned checkpoint and τ = W_t − W_0.", valueName: "checkpoint"))
    var base: String?

    @Option(help: ArgumentHelp("Full fine-tuning: dimension k of the singular subspaces compared by "
                               + "\(DistanceMetric.sentenceList(DistanceMetric.applying(to: .full).filter { $0.subspace != nil })) (default 8).",
                               valueName: "k"))
    var subspaceRank: Int?

    @Option(parsing: .upToNextOption,
            help: ArgumentHelp("Both kinds (with --base): LoRA adapters of the same tasks, paired with the checkpoints by task name "
                               + "(folder name or name=path); adds the cross-kind geometry, intruder dimensions and the score table.",
                               valueName: "adapter"))
    var lora: [String] = []

    @Option(help: ArgumentHelp("Both kinds: the LoRA adapters' scores (--scores are then the full fine-tunes').", valueName: "file.csv"))
    var loraScores: String?

    @Option(help: ArgumentHelp("Both kinds: intruder dimensions are looked for among the top k singular vectors of W_t (default 10).",
                               valueName: "k"))
    var intruderK: Int?

    @Option(help: ArgumentHelp("Both kinds: a singular vector of W_t is an intruder when its largest |cos| with those of W_0 is "
                               + "below ε (default 0.5).", valueName: "ε"))
    var intruderEpsilon: Double?

    @Option(help: ArgumentHelp("With --scores: the ridge penalty λ of the leave-one-task-out prediction of the merge loss (default 1.0).",
                               valueName: "λ"))
    var ridgeLambda: Double?

    @Option(help: ArgumentHelp("Tasks to emphasise in the figures, comma-separated: drawn on top and always labelled in the maps, "
                               + "as lines over the layer profiles' bands at large N.", valueName: "task,…"))
    var highlight: String?

    /// The validated study these options name (nothing is read yet).
    func input() throws(ToolError) -> StudyInput {
        try StudyInput.resolve(adapters: adapters, name: name, out: out, scores: scores, base: base,
                               modules: modules.map(commaSeparated), subspaceRank: subspaceRank, lora: lora, loraScores: loraScores,
                               intruderK: intruderK, intruderEpsilon: intruderEpsilon, ridgeLambda: ridgeLambda)
    }
}

func commaSeparated(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
}

/// Runs a study with a progress line and prints its warnings.
enum StudyRun {
    static func run(_ input: StudyInput, quiet: Bool) throws(ToolError) -> (StudyAnalysis, StudyFindings) {
        let progress = ProgressLine(enabled: !quiet)
        let result: (StudyAnalysis, StudyFindings)
        do {
            result = try input.run(progress: progress.update)
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        for warning in result.0.warnings + result.1.warnings { printError("tvgeo: warning: \(warning.text)") }
        return result
    }
}

extension StudyRun {
    /// A study of both kinds, with the same progress line.
    static func runComparison(_ input: StudyInput, quiet: Bool) throws(ToolError) -> KindComparison {
        let progress = ProgressLine(enabled: !quiet)
        let result: KindComparison
        do {
            result = try input.runComparison(progress: progress.update)
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        let warnings = result.fft.warnings + result.fftFindings.warnings + result.lora.warnings + result.loraFindings.warnings
        for warning in warnings { printError("tvgeo: warning: \(warning.text)") }
        return result
    }
}

/// `--force`, the same for every command that writes a folder (see `OutputFolder.write`).
let forceHelp = ArgumentHelp(
    "Write into a non-empty folder tvgeo did not create, replacing only tvgeo's own file names there; in an earlier "
        + "output, also replace files of that name that tvgeo did not write or that were changed since (kept otherwise).")
