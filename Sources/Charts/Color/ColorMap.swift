/// A map from 0...1 to colours.
///
/// Listed maps (viridis, magma) follow the published 256-entry tables and matplotlib's lookup:
/// entry ⌊t × 256⌋, with t = 1 giving the last entry, so viridis(0.5) is entry 128 (#21918c).
/// Interpolated maps blend linearly in sRGB between evenly spaced control colours.
public struct ColorMap: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case listed, interpolated }

    public var name: String
    public var kind: Kind
    public var colors: [Color]
    /// True for maps meant to be centred on a neutral midpoint (correlations).
    public var isDiverging: Bool

    public init(name: String, kind: Kind, colors: [Color], isDiverging: Bool = false) {
        precondition(!colors.isEmpty, "a colour map needs at least one colour")
        self.name = name
        self.kind = kind
        self.colors = colors
        self.isDiverging = isDiverging
    }

    /// The colour at `t`; t is clamped to 0...1. NaN gives nil (the caller chooses a missing colour).
    public func color(at t: Double) -> Color? {
        guard !t.isNaN else { return nil }
        let f = min(max(t, 0), 1)
        let n = colors.count
        switch kind {
        case .listed:
            return colors[min(Int(f * Double(n)), n - 1)]
        case .interpolated:
            guard n > 1 else { return colors[0] }
            let position = f * Double(n - 1)
            let i = min(Int(position), n - 2)
            return colors[i].interpolated(to: colors[i + 1], fraction: position - Double(i))
        }
    }

    /// The same map run backwards.
    public func reversed() -> ColorMap {
        ColorMap(name: name + "_r", kind: kind, colors: colors.reversed(), isDiverging: isDiverging)
    }

    /// `count` evenly spaced gradient stops (at least 2), for drawing a colour bar.
    public func gradientStops(count: Int = 64) -> [GradientStop] {
        let n = max(count, 2)
        return (0..<n).map { i in
            let t = Double(i) / Double(n - 1)
            return GradientStop(offset: t, color: color(at: t)!)
        }
    }

    /// Perceptually uniform sequential map, dark purple → yellow (for distances).
    public static let viridis = ColorMap(name: "viridis", kind: .listed, colors: ColorMapTables.viridis.map { Color(hex: $0) })

    /// Perceptually uniform sequential map, black → pale yellow (for distances).
    public static let magma = ColorMap(name: "magma", kind: .listed, colors: ColorMapTables.magma.map { Color(hex: $0) })

    /// Perceptually uniform sequential map, dark blue → yellow, optimised to look the same to
    /// viewers with deuteranomaly or protanomaly (Nuñez, Anderton and Renslow, 2018).
    public static let cividis = ColorMap(name: "cividis", kind: .listed, colors: ColorMapTables.cividis.map { Color(hex: $0) })

    /// Diverging purple → near-white → orange: ColorBrewer's 11-class PuOr, reversed so that
    /// negative values are purple and positive ones orange; colour-blind safe like RdBu.
    public static let purpleOrange = ColorMap(
        name: "PuOr_r", kind: .interpolated,
        colors: [0x2D004B, 0x542788, 0x8073AC, 0xB2ABD2, 0xD8DAEB, 0xF7F7F7, 0xFEE0B6, 0xFDB863, 0xE08214, 0xB35806, 0x7F3B08]
            .map { Color(hex: $0) },
        isDiverging: true)

    /// Diverging blue → near-white → red: ColorBrewer's 11-class RdBu, reversed so that negative
    /// values are blue and positive ones red (for correlations, centred at 0).
    public static let blueRed = ColorMap(
        name: "RdBu_r", kind: .interpolated,
        colors: [0x053061, 0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0, 0xF7F7F7, 0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B, 0x67001F]
            .map { Color(hex: $0) },
        isDiverging: true)
}
