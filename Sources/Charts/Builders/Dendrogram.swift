import Foundation

/// A hierarchical clustering as drawn beside a heatmap (seaborn's clustermap): each merge is a
/// "⊓" joining its two children at the merge height. Charts knows no statistics: the caller
/// passes the merges (AnalysisCore's average linkage, in SciPy's linkage layout).
///
/// Contracts:
/// - Leaves are `0..<leafCount` (indices into the heatmap's `values`, before any order); the k-th
///   merge creates node `leafCount + k` and may only join nodes that exist before it.
/// - A merge naming a node that does not exist yet, a node already merged, itself twice, or with a
///   height that is not finite is left out, and so is every merge above it; leaves in no merge
///   (tasks left out of a clustering) get no link.
/// - Heights are drawn as given (average linkage is monotone, so parents sit above children); the
///   drawing scales the largest drawn height to the available depth (a zero maximum draws every
///   link at the leaves' level).
public struct Dendrogram: Hashable, Sendable {
    public struct Merge: Hashable, Sendable {
        public var left: Int
        public var right: Int
        public var height: Double

        public init(left: Int, right: Int, height: Double) {
            self.left = left
            self.right = right
            self.height = height
        }
    }

    public var leafCount: Int
    public var merges: [Merge]

    public init(leafCount: Int, merges: [Merge]) {
        self.leafCount = leafCount
        self.merges = merges
    }

    /// One drawn merge: the two children (position along the axis, height) and the merge height.
    /// A leaf's height is 0; a node's position is the mean of its children's positions.
    public struct Link: Hashable, Sendable {
        public var leftPosition: Double
        public var leftHeight: Double
        public var rightPosition: Double
        public var rightHeight: Double
        public var height: Double
    }

    /// The links of the valid merges (see the contract), in merge order, with each leaf at
    /// `positions[leaf]` (e.g. the centre of its row); a leaf without a finite position makes its
    /// merges invalid. With `maximumLinks`, only that many of the highest valid merges are drawn
    /// (ties: the later merge; the top of a monotone tree, as SciPy's `truncate_mode="lastp"`), in merge
    /// order; a subtree below them is not drawn: the link's leg stops at the subtree's own merge
    /// height, at its position (the mean rule above), so the tree's top floats above the leaves
    /// instead of dropping hundreds of legs to them.
    public func links(positions: [Double], maximumLinks: Int? = nil) -> [Link] {
        var node: [Int: (position: Double, height: Double)] = [:]
        for leaf in 0..<min(leafCount, positions.count) where positions[leaf].isFinite {
            node[leaf] = (positions[leaf], 0)
        }
        var valid: [Link] = []
        for (k, merge) in merges.enumerated() {
            guard merge.left != merge.right, merge.height.isFinite,
                  let a = node.removeValue(forKey: merge.left) else { continue }
            guard let b = node.removeValue(forKey: merge.right) else {
                node[merge.left] = a
                continue
            }
            let link = Link(leftPosition: a.position, leftHeight: a.height, rightPosition: b.position, rightHeight: b.height,
                            height: merge.height)
            valid.append(link)
            node[leafCount + k] = ((a.position + b.position) / 2, merge.height)
        }
        guard let maximumLinks, valid.count > maximumLinks else { return valid }
        // The highest merges (ties: the later one, so a parent of equal height comes first).
        let highest = valid.indices.sorted { (valid[$0].height, $0) > (valid[$1].height, $1) }.prefix(max(0, maximumLinks))
        return highest.sorted().map { valid[$0] }
    }
}
