import AnalysisCore
import Diagnostics
import Foundation

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

    /// Validates the options that name a study (as given on the command line or in a study file).
    public static func resolve(adapters: [String], name: String?, out: String?, scores: String?, base: String?,
                               modules: [String]?, subspaceRank: Int?, ridgeLambda: Double? = nil) throws(ToolError) -> StudyInput {
        guard !adapters.isEmpty else { throw .usage("give at least one adapter (a PEFT folder or a .safetensors file)") }
        let arguments = adapters.map(AdapterArgument.init(parsing:))
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
}
