import AnalysisCore

/// Which tasks a map (PCA, MDS) and an ordering of one metric and module can place: every task,
/// except the later copies of identical adapters and the tasks whose distances are undefined
/// (an untrained adapter: ΔW = 0). Leaving those out keeps the maps of all the others.
struct MappedTasks {
    /// Task indices placed on the maps, in task order.
    var kept: [Int]
    /// Task indices left out, in task order.
    var leftOut: [Int]

    /// `duplicates`: task indices left out everywhere (later copies). Then, while some distance
    /// between kept tasks is undefined, the task with the most undefined distances (the last of
    /// equals) is left out too.
    init(_ mean: PairMatrix, duplicates: Set<Int>) {
        var kept = (0..<mean.count).filter { !duplicates.contains($0) }
        var removed = Set(duplicates)
        while kept.count > 1 {
            let undefined = kept.map { i in kept.filter { j in !mean[i, j].isFinite }.count }
            guard let worst = undefined.max(), worst > 0 else { break }
            let index = undefined.lastIndex(of: worst)!
            removed.insert(kept[index])
            kept.remove(at: index)
        }
        // A lone task left, or one whose own distance is undefined, is no map either.
        if kept.count == 1, !mean[kept[0], kept[0]].isFinite {
            removed.insert(kept[0])
            kept = []
        }
        self.kept = kept
        self.leftOut = removed.sorted()
    }

    /// The rows and columns of the kept tasks.
    func rows(of mean: PairMatrix) -> [[Double]] {
        kept.map { i in kept.map { j in mean[i, j] } }
    }

    /// Coordinates of the kept tasks spread back over all `count` tasks; NaN for the others.
    func expand(_ coordinates: [[Double]], count: Int) -> [[Double]] {
        var full = [[Double]](repeating: [.nan, .nan], count: count)
        for (index, task) in kept.enumerated() { full[task] = coordinates[index] }
        return full
    }

    /// A clustering of the kept tasks in the numbering of all `count` tasks: leaves are task
    /// indices, the k-th merge is cluster `count + k`; the order lists the kept tasks, then the
    /// ones left out.
    func expand(_ clustering: TaskMaps.Clustering, count: Int) -> TaskMaps.Clustering {
        let n = kept.count
        func id(_ local: Int) -> Int { local < n ? kept[local] : count + (local - n) }
        var expanded = clustering
        expanded.merges = clustering.merges.map { (id($0.0), id($0.1), $0.2, $0.3) }
        expanded.order = clustering.order.map { kept[$0] } + leftOut
        return expanded
    }

    /// Clusters of the kept tasks spread back over all `count` tasks: a later copy in `duplicates`
    /// (groups, first copy first) takes its first copy's cluster, any other task left out −1.
    func expand(_ clusters: TaskClusters, count: Int, duplicates: [[Int]]) -> TaskClusters {
        var labels = [Int](repeating: -1, count: count)
        for (index, task) in kept.enumerated() { labels[task] = clusters.labels[index] }
        for group in duplicates where labels[group[0]] >= 0 {
            for copy in group.dropFirst() { labels[copy] = labels[group[0]] }
        }
        return TaskClusters(labels: labels, count: clusters.count, silhouette: clusters.silhouette,
                            medoids: clusters.medoids.map { $0 >= 0 ? kept[$0] : -1 })
    }
}
