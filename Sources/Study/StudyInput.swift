import AnalysisCore
import Diagnostics
import Foundation
import TensorIO

/// A validated study: the adapters (or checkpoints), its name and output folder, what to compare.
/// Shared by `tvgeo analyze` and `tvgeo report`; everything is checked before any tensor is read.
public struct StudyInput: Sendable {
    public var arguments: [AdapterArgument]
    public var name: String
    public var folder: String
    public var scores: String?
    public var base: String?
    public var modules: [String]?
    public var subspaceRank: Int
    /// Whether `subspaceRank` was given (then it must fit the weights) rather than the default.
    public var subspaceRankGiven = false
    /// The ridge penalty λ of the merge-loss prediction (`--ridge-lambda`, > 0).
    public var ridgeLambda = StudyFindings.defaultRidgeLambda

    /// Both kinds (`--lora` beside `--base`): the LoRA adapters, paired with the checkpoints by task name.
    public var lora: [AdapterArgument]? = nil
    /// The LoRA adapters' scores (`--lora-scores`); `scores` are then the full fine-tunes'.
    public var loraScores: String? = nil
    /// Intruder dimensions: the top k singular vectors of W_t looked at, and the threshold ε on |cos|.
    public var intruderK = IntruderDimensions.defaultK
    public var intruderEpsilon = IntruderDimensions.defaultEpsilon

    /// Validates the options that name a study (as given on the command line or in a study file).
    public static func resolve(adapters: [String], name: String?, out: String?, scores: String?, base: String?,
                               modules: [String]?, subspaceRank: Int?, lora: [String] = [], loraScores: String? = nil,
                               intruderK: Int? = nil, intruderEpsilon: Double? = nil,
                               ridgeLambda: Double? = nil) throws(ToolError) -> StudyInput {
        if !lora.isEmpty, base == nil {
            throw .usage("--lora adds LoRA adapters beside full fine-tuning: give the base checkpoint with --base and the fine-tuned "
                         + "checkpoints as arguments")
        }
        if lora.isEmpty {
            for (option, given) in [("--lora-scores", loraScores != nil), ("--intruder-k", intruderK != nil),
                                    ("--intruder-epsilon", intruderEpsilon != nil)] where given {
                throw .usage("\(option) applies to a study of both kinds (--base with --lora)")
            }
        }
        if let intruderK, intruderK < 1 { throw .usage("--intruder-k must be at least 1 (got \(intruderK))") }
        if let intruderEpsilon, !(intruderEpsilon > 0 && intruderEpsilon <= 1) {
            throw .usage("--intruder-epsilon must be in (0, 1] (got \(intruderEpsilon))")
        }
        guard !adapters.isEmpty else { throw .usage("give at least one adapter (a PEFT folder or a .safetensors file)") }
        let arguments = AdapterArgument.inStudyOrder(adapters.map(AdapterArgument.init(parsing:)))
        let name = name ?? AdapterArgument.defaultStudyName(arguments)
        guard !name.isEmpty, !name.contains("/") else { throw .usage("--name must be a non-empty name without '/'") }
        if subspaceRank != nil, base == nil {
            throw .usage("--subspace-rank applies to full fine-tuning (with --base); LoRA adapters are compared in their own rank")
        }
        let rank = subspaceRank ?? 8
        try StudyBlocks.checkSubspaceRank(rank)
        let modules = modules?.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let modules, modules.isEmpty { throw .usage("--modules lists no module") }
        var input = StudyInput(arguments: arguments, name: name, folder: out ?? "output/\(OutputNaming.component(name))",
                               scores: scores, base: base, modules: modules, subspaceRank: rank)
        input.subspaceRankGiven = subspaceRank != nil
        if let ridgeLambda {
            guard ridgeLambda > 0, ridgeLambda.isFinite else { throw .usage("--ridge-lambda must be a positive number (got \(ridgeLambda))") }
            input.ridgeLambda = ridgeLambda
        }
        if !lora.isEmpty {
            let loraArguments = lora.map(AdapterArgument.init(parsing:))
            try AdapterArgument.checkUnique(loraArguments)
            _ = try CrossKindStudy.sharedTasks(fft: arguments, lora: loraArguments, base: base ?? "")
            input.lora = loraArguments
            input.loraScores = loraScores
            input.intruderK = intruderK ?? IntruderDimensions.defaultK
            input.intruderEpsilon = intruderEpsilon ?? IntruderDimensions.defaultEpsilon
        }
        return input
    }

    /// The kind of task vectors this study compares.
    public var kind: FineTuningKind { base == nil ? .lora : .full }

    /// Reads the tensors, computes every distance, then the maps and (with scores) the merge-loss
    /// correlations. Only the requested modules are kept (a usage error names any that is missing).
    public func run(progress: @escaping StudyProgress) throws(ToolError) -> (StudyAnalysis, StudyFindings) {
        let analysis: StudyAnalysis
        if let base {
            analysis = try FullFineTuneStudy.analyze(base: base, checkpoints: arguments, modules: modules,
                                                     subspaceRank: subspaceRank, subspaceRankGiven: subspaceRankGiven,
                                                     progress: progress)
        } else {
            analysis = try LoRAStudy.analyze(arguments, modules: modules, progress: progress)
        }
        let scoreTable = try scores.map { path throws(ToolError) in try ScoreTable.read(path, tasks: analysis.tasks) }
        return (analysis, try StudyFindings.compute(analysis, scores: scoreTable, ridgeLambda: ridgeLambda))
    }

    /// Both kinds: each kind's study (the f-FT one with `scores`, the LoRA one with `loraScores`),
    /// then the cross-kind analysis of the shared tasks over the modules of the f-FT study.
    public func runComparison(progress: @escaping StudyProgress) throws(ToolError) -> KindComparison {
        guard let lora, let base else { throw .internalError("runComparison without --lora and --base") }
        // The adapters are read and checked against the base before any tensor value is read.
        let adapters = try ConcurrentWork.map(count: lora.count, onFailure: .runAllThenFirstInOrder) { index throws(ToolError) in
            try LoRAAdapter(task: lora[index].task, path: lora[index].path)
        }
        try CrossKindStudy.checkShapes(adapters, base: base)
        let (fft, fftFindings) = try run(progress: progress)
        let crossKind0 = try CrossKindStudy.analyze(base: base, checkpoints: arguments, adapters: adapters, modules: fft.modules,
                                                    k: intruderK, epsilon: intruderEpsilon, progress: progress)
        let loraAnalysis = try LoRAStudy.analyze(adapters, modules: modules, progress: progress)
        let loraTable = try loraScores.map { path throws(ToolError) in try ScoreTable.read(path, tasks: loraAnalysis.tasks) }
        let loraFindings = try StudyFindings.compute(loraAnalysis, scores: loraTable)
        var crossKind = crossKind0
        crossKind.agreement = CrossKindStudy.agreement(tasks: crossKind.tasks, modules: crossKind.modules, fft: fft, lora: loraAnalysis)
        let fftScores = fftFindings.scores?.selfScores(tasks: crossKind.tasks)
        let loraSelf = loraTable?.selfScores(tasks: crossKind.tasks)
        let kindScores = crossKind.tasks.indices.map { index in
            (task: crossKind.tasks[index], fft: fftScores?[index] ?? nil, lora: loraSelf?[index] ?? nil)
        }
        return KindComparison(fft: fft, fftFindings: fftFindings, lora: loraAnalysis, loraFindings: loraFindings,
                              crossKind: crossKind, kindScores: kindScores)
    }
}
