/// Categorical colours for series and groups, with dash patterns to keep more series apart than
/// there are colours.
public struct Palette: Hashable, Sendable {
    public var name: String
    public var colors: [Color]

    public init(name: String, colors: [Color]) {
        precondition(!colors.isEmpty, "a palette needs at least one colour")
        self.name = name
        self.colors = colors
    }

    /// The colour of series `index` (cycling).
    public func color(_ index: Int) -> Color {
        colors[((index % colors.count) + colors.count) % colors.count]
    }

    /// The dash pattern of series `index`: solid for the first round of colours, then dashed,
    /// dotted and dash-dotted, so that up to 4 × colors.count series stay distinguishable.
    public func dash(_ index: Int, lineWidth: Double = 1) -> [Double] {
        let round = (max(index, 0) / colors.count) % Palette.dashes.count
        return Palette.dashes[round].map { $0 * max(lineWidth, 0.5) }
    }

    static let dashes: [[Double]] = [[], [4, 2], [1, 1.6], [5, 1.6, 1, 1.6]]

    /// Okabe & Ito (2008), colour-blind safe. The yellow, weak on white, is moved to the end.
    public static let okabeIto = Palette(name: "Okabe–Ito", colors: [
        0x0072B2, 0xD55E00, 0x009E73, 0xE69F00, 0xCC79A7, 0x56B4E9, 0x000000, 0xF0E442,
    ].map { Color(hex: $0) })

    /// Tableau 10 (the 2016 revision).
    public static let tableau10 = Palette(name: "Tableau 10", colors: [
        0x4E79A7, 0xF28E2B, 0xE15759, 0x76B7B2, 0x59A14F, 0xEDC948, 0xB07AA1, 0xFF9DA7, 0x9C755F, 0xBAB0AC,
    ].map { Color(hex: $0) })

    /// Okabe–Ito for up to 6 series (leaving out its black and yellow), Tableau 10 beyond.
    public static func automatic(seriesCount: Int) -> Palette {
        seriesCount <= 6 ? okabeIto : tableau10
    }
}
