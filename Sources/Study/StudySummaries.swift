import AnalysisCore
import Diagnostics

/// Summaries of a study that stay short at any number of tasks: adapters grouped by configuration,
/// each task's nearest neighbours, and near-duplicate pairs. Pure functions of the analysis.
public enum StudySummaries {
    /// Adapters that share one configuration.
    public struct ConfigurationGroup: Sendable, Equatable {
        public var kind: String
        /// Module names joined with "+" (`query+value`).
        public var modules: String
        /// Distinct values in first-seen order, joined with ", ".
        public var ranks: String
        public var alphas: String
        public var layerCount: Int
        public var baseModel: String?
        /// The group's tasks, in natural order.
        public var tasks: [String]

        /// "500 adapters: lora, query+value, r 8, α 16, 12 layers".
        public var sentence: String {
            "\(Wording.count(tasks.count, "adapter")): \(kind), \(modules), r \(ranks), α \(alphas), "
                + "\(Wording.count(layerCount, "layer"))" + (baseModel.map { ", base \($0)" } ?? "")
        }
    }

    /// One group per distinct configuration (kind, modules, ranks, alphas, number of layers, base
    /// model); the largest group first (ties: the group whose first task comes first naturally).
    public static func configurationGroups(_ adapters: [AdapterSummary]) -> [ConfigurationGroup] {
        var groups: [ConfigurationGroup] = []
        var index: [String: Int] = [:]
        for adapter in adapters {
            let group = ConfigurationGroup(
                kind: adapter.kind, modules: adapter.modules.map(\.name).joined(separator: "+"),
                ranks: distinct(adapter.modules.flatMap(\.ranks).map { "\($0)" }),
                alphas: distinct(adapter.modules.flatMap(\.alphas).map { $0 == $0.rounded() && abs($0) < 1e15 ? "\(Int($0))" : "\($0)" }),
                layerCount: Set(adapter.modules.flatMap(\.layers)).count, baseModel: adapter.baseModel, tasks: [])
            let key = [group.kind, group.modules, group.ranks, group.alphas, "\(group.layerCount)", group.baseModel ?? "\u{2}"]
                .joined(separator: "\u{1}")
            if let at = index[key] {
                groups[at].tasks.append(adapter.task)
            } else {
                index[key] = groups.count
                groups.append(group)
                groups[groups.count - 1].tasks = [adapter.task]
            }
        }
        for i in groups.indices { groups[i].tasks = NaturalOrder.sorted(groups[i].tasks) }
        return groups.sorted {
            $0.tasks.count != $1.tasks.count ? $0.tasks.count > $1.tasks.count : NaturalOrder.areInIncreasingOrder($0.tasks[0], $1.tasks[0])
        }
    }

    /// "8" for one value, "4, 8" for several (in first-seen order); "—" for none.
    static func distinct(_ values: [String]) -> String {
        var seen: [String] = []
        for value in values where !seen.contains(value) { seen.append(value) }
        return seen.isEmpty ? "—" : seen.joined(separator: ", ")
    }

    public struct Neighbour: Sendable, Equatable {
        public var task: Int
        public var distance: Double
    }

    /// The default k of the nearest-neighbour tables.
    public static let defaultNeighbourCount = 5

    /// Per task, its k nearest other tasks by `matrix` (read as ½(D + Dᵀ) for an asymmetric metric,
    /// as the maps do), nearest first; ties in natural order of the task names. Undefined (NaN)
    /// distances are skipped, so a task may have fewer than k.
    public static func neighbours(_ matrix: PairMatrix, symmetric: Bool, tasks: [String], k: Int) -> [[Neighbour]] {
        let mean = symmetric ? matrix : StudyFindings.symmetrised(matrix)
        let rank = naturalRanks(tasks)
        return (0..<mean.count).map { i in
            let candidates = (0..<mean.count).filter { $0 != i && mean[i, $0].isFinite }
                .map { Neighbour(task: $0, distance: mean[i, $0]) }
            return Array(candidates.sorted { $0.distance != $1.distance ? $0.distance < $1.distance : rank[$0.task] < rank[$1.task] }
                .prefix(max(0, k)))
        }
    }

    /// Position of each task in natural order.
    public static func naturalRanks(_ tasks: [String]) -> [Int] {
        var rank = [Int](repeating: 0, count: tasks.count)
        for (position, task) in tasks.indices.sorted(by: { NaturalOrder.areInIncreasingOrder(tasks[$0], tasks[$1]) }).enumerated() {
            rank[task] = position
        }
        return rank
    }

    /// Near-duplicates: the layer-mean cosine distance T̄_cos (1 − cos, averaged over layers) is
    /// below this in every module where it is defined, i.e. the updates point the same way to
    /// within about 2.6° (1 − cos 2.6° ≈ 1e-3) on average.
    public static let nearDuplicateCosine = 1e-3

    public struct NearDuplicate: Sendable, Equatable {
        /// a comes before b in natural order.
        public var a: Int
        public var b: Int
        /// Per module (in the analysis's order): T̄_cos, T̄_l2; NaN where undefined.
        public var cosine: [Double]
        public var l2: [Double]
    }

    /// Pairs under `nearDuplicateCosine` in every module where T̄_cos is defined (and defined in at
    /// least one), in natural order of (a, b). Identical adapters are among them (distance 0).
    public static func nearDuplicates(_ analysis: StudyAnalysis) -> [NearDuplicate] {
        let modules = analysis.modules
        let cosines = modules.map { analysis.distances[.cosine]?[$0]?.mean }
        let l2s = modules.map { analysis.distances[.l2]?[$0]?.mean }
        let n = analysis.tasks.count
        let rank = naturalRanks(analysis.tasks)
        var pairs: [NearDuplicate] = []
        for i in 0..<n {
            for j in (i + 1)..<max(n, i + 1) {
                let values = cosines.map { $0.map { ($0[i, j] + $0[j, i]) / 2 } ?? .nan }
                let defined = values.filter(\.isFinite)
                guard !defined.isEmpty, defined.allSatisfy({ $0 < nearDuplicateCosine }) else { continue }
                let (a, b) = rank[i] < rank[j] ? (i, j) : (j, i)
                pairs.append(NearDuplicate(a: a, b: b, cosine: values, l2: l2s.map { $0.map { ($0[i, j] + $0[j, i]) / 2 } ?? .nan }))
            }
        }
        return pairs.sorted { rank[$0.a] != rank[$1.a] ? rank[$0.a] < rank[$1.a] : rank[$0.b] < rank[$1.b] }
    }

    /// "a, b, c" for up to `limit` names, else the first ones, "…" and the last: "t00, t01, t02, …, t499 (500)".
    public static func abbreviated(_ names: [String], limit: Int = 8) -> String {
        guard names.count > limit else { return names.joined(separator: ", ") }
        return names.prefix(max(1, limit - 2)).joined(separator: ", ") + ", …, \(names.last!) (\(names.count))"
    }
}
