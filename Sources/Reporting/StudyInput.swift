import AnalysisCore
import Diagnostics
import Foundation
import Study

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

    public static func resolve(_ request: ReportRequest) throws(ToolError) -> StudyInput {
        guard !request.adapters.isEmpty else { throw .usage("give at least one adapter (a PEFT folder or a .safetensors file)") }
        let arguments = request.adapters.map(AdapterArgument.init(parsing:))
        let name = request.name ?? AdapterArgument.defaultStudyName(arguments)
        guard !name.isEmpty, !name.contains("/") else { throw .usage("--name must be a non-empty name without '/'") }
        let subspaceRank = request.subspaceRank ?? 8
        guard subspaceRank >= 1 else { throw .usage("--subspace-rank must be at least 1 (got \(subspaceRank))") }
        let modules = request.modules?.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let modules, modules.isEmpty { throw .usage("--modules lists no module") }
        return StudyInput(arguments: arguments, name: name, folder: request.out ?? "output/\(OutputNaming.component(name))",
                          scores: request.scores, base: request.base, modules: modules, subspaceRank: subspaceRank)
    }

    /// Reads the tensors, computes every distance, then the maps and (with scores) the merge-loss
    /// correlations. Only the requested modules are kept (a usage error names any that is missing).
    public func run(progress: @escaping @Sendable (Int, Int) -> Void) throws(ToolError) -> (StudyAnalysis, StudyFindings) {
        var analysis: StudyAnalysis
        if let base {
            analysis = try FullFineTuneStudy.analyze(base: base, checkpoints: arguments, modules: modules,
                                                     subspaceRank: subspaceRank, progress: progress)
        } else {
            analysis = try StudyRunner.analyze(arguments, progress: progress)
            if let modules {
                let unknown = modules.filter { !analysis.modules.contains($0) }
                guard unknown.isEmpty else {
                    throw .usage("--modules: no module \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) in these adapters (they share \(analysis.modules.joined(separator: ", ")))")
                }
                analysis = analysis.restricted(toModules: modules)
            }
        }
        let scoreTable = try scores.map { path throws(ToolError) in try ScoreTable.read(path, tasks: analysis.tasks) }
        return (analysis, try StudyFindings.compute(analysis, scores: scoreTable))
    }
}
