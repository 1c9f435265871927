/// Everything tvgeo says about one metric, in one value: the CLI's help and validation,
/// `metrics.json`, the console table, the report's text, captions, table headers, figure labels
/// and its methods section all read it. The list of metrics is `DistanceMetric.allCases`, and
/// each case's descriptor is in `MetricCatalogue.swift`, the one file that names metric ids.
public struct MetricDescriptor: Sendable {
    /// The formula in three notations.
    public struct Formula: Sendable {
        /// Unicode text, for the console, CSV notes and the report's fallback.
        public var plain: String
        /// LaTeX math mode (no surrounding `$`).
        public var latex: String
        /// A display-mode MathML `<math>` element (tvgeo's own markup, see `MathMLMarkup`).
        public var mathML: String
    }

    /// What a metric compares between two task vectors.
    public enum Operand: Sendable, Equatable {
        /// The updates ΔW themselves (l2, cosine).
        case update
        /// A subspace of each update, through its principal angles.
        case subspace(SubspaceKind)
        /// Comb's merged update ΔW_C(i,j) = (s_i/4)(B_i + B_j)(A_i + A_j) against what it merges
        /// (LoRA factors of equal rank only).
        case combMerge
    }

    /// The identifier used in `metrics.json`, file names, `--metrics` and table headers.
    public var id: String
    /// The name of its definition in the methods section ("Cosine distance").
    public var name: String
    /// Figure and section title ("L2 distance ‖ΔWᵢ − ΔWⱼ‖").
    public var title: String
    /// For sentences, legends and axis titles ("Grassmann (B)").
    public var shortName: String
    /// Unit of the values, as a colour-bar or axis title ("radians").
    public var unit: String
    public var formula: Formula
    /// The metric's symbol in LaTeX math mode, without `$` (`d_{G,B}`): the header of its column
    /// in the LaTeX tables, in the notation of `formula.latex`.
    public var latexSymbol: String
    /// The values it can take, as text ("[0, 2]").
    public var range: String
    public var operand: Operand
    /// When the value is undefined (NaN in memory, `null` in `metrics.json`), as text.
    public var undefinedWhen: String
    /// The subspace whose being {0} (a zero update or factor) leaves the metric undefined; nil
    /// when it is always defined. The study's warnings name metrics through it.
    public var undefinedWhenZero: SubspaceKind?
    /// The definition's explanatory sentence in the methods section.
    public var note: String
    /// The kinds of fine-tuning it applies to. A kernel for a kind must fill every metric that
    /// applies to it; a metric that does not apply is written as `null` throughout.
    public var appliesTo: Set<FineTuningKind>
    /// d(i,j) = d(j,i) for every pair.
    public var isSymmetric: Bool
    /// Decimals of the values annotated in heatmap cells.
    public var annotationDecimals: Int
}

/// How a set of task vectors was obtained.
public enum FineTuningKind: String, Sendable, Hashable, CaseIterable {
    /// ΔW = s·B·A from LoRA factors.
    case lora
    /// τ = W_t − W_0 from full checkpoints.
    case full
}

/// Which subspace of an adapter a Grassmann distance uses.
public enum SubspaceKind: String, CaseIterable, Sendable {
    /// Im(ΔW): the column space of s·B·A.
    case delta
    /// Im(B).
    case b
    /// Im(Aᵀ): the row space of A.
    case a
}

extension DistanceMetric {
    /// The metric's identifier (its descriptor's `id`).
    public var id: String { rawValue }

    /// The subspace a Grassmann metric compares, or nil for the metrics of the updates themselves.
    public var subspace: SubspaceKind? {
        if case .subspace(let kind) = descriptor.operand { return kind }
        return nil
    }

    /// True for the metrics of Comb's merged update (comb_shift, comb_error): asymmetric, row = host.
    public var isCombMetric: Bool { descriptor.operand == .combMerge }

    /// The metrics that apply to `kind`, in canonical order.
    public static func applying(to kind: FineTuningKind) -> [DistanceMetric] {
        allCases.filter { $0.descriptor.appliesTo.contains(kind) }
    }

    /// The metric with this id, or nil.
    public init?(id: String) { self.init(rawValue: id) }

    /// "l2, cosine, grassmann, …": every id, for help texts and error messages.
    public static var idList: String { allCases.map(\.id).joined(separator: ", ") }

    /// "cosine and grassmann", for sentences naming several metrics.
    public static func sentenceList(_ metrics: [DistanceMetric]) -> String {
        let ids = metrics.map(\.id)
        guard ids.count > 1 else { return ids.first ?? "" }
        return ids.dropLast().joined(separator: ", ") + " and " + ids.last!
    }
}
