import CPango
import Foundation

/// The font families fontconfig offers Pango on this machine.
public enum FontFamilies {
    /// Every family name Pango's Cairo font map lists, sorted (loads Cairo and Pango).
    public static func installed() -> [String] {
        guard let map = pango_cairo_font_map_get_default() else { return [] }
        var families: UnsafeMutablePointer<UnsafeMutablePointer<PangoFontFamily>?>?
        var count: Int32 = 0
        pango_font_map_list_families(map, &families, &count)
        guard let families else { return [] }
        defer { g_free(families) }
        return (0..<Int(count)).compactMap { families[$0].flatMap { pango_font_family_get_name($0) }.map { String(cString: $0) } }.sorted()
    }

    /// Whether `family` is installed, ignoring letter case (as fontconfig matches names). A family
    /// that fontconfig would only substitute (an alias such as "Helvetica" → "Nimbus Sans" or
    /// "sans-serif") is not installed in this sense.
    public static func isInstalled(_ family: String) -> Bool {
        let wanted = family.lowercased()
        return installed().contains { $0.lowercased() == wanted }
    }
}
