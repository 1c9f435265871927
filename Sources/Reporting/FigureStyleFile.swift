import AnalysisCore
import Charts
import Diagnostics
import Foundation
import JSONText
import Study
import TensorIO

/// Reads a figure style from JSON: `--style FILE.json` (the whole file is the style) or the
/// study file's `style` object. Keys are snake_case; an unknown key or a wrong value stops the run
/// (exit 65) naming the file, the key's path (`style.font.fmaily`) and, for a likely typo, the key
/// or value meant. Keys a file leaves out keep the value of the style it is read over.
public enum FigureStyleFile {
    /// The keys of a style object.
    public static let keys = ["font", "titles", "colour_map", "colour_range", "annotations", "number_format", "png_dpi", "width"]
    static let fontKeys = ["family", "size"]
    static let colourMapKeys = ["heatmap", "delta"]
    /// Base font sizes accepted, in points.
    public static let fontSizes = 5.0...16.0
    /// PNG resolutions accepted, in dots per inch.
    public static let dpiRange = 36.0...1200.0

    /// The style of `--style FILE.json`, read over `base`.
    public static func read(_ path: String, over base: FigureStyle = .default) throws(ToolError) -> FigureStyle {
        let bytes = try readWholeFile(path, limit: 1 << 20)
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch {
            throw .invalidData(file: path, location: nil, problem: "not valid JSON: \(error)")
        }
        return try parse(json, file: path, path: nil, over: base)
    }

    /// The style `value` describes, read over `base`; `path` is where the object sits in `file`
    /// ("style" in a study file, nil for a style file), for messages.
    public static func parse(_ value: JSONValue, file: String, path: String?, over base: FigureStyle = .default) throws(ToolError) -> FigureStyle {
        func location(_ key: String) -> String { "\"" + (path.map { $0 + "." } ?? "") + key + "\"" }
        func fail(_ key: String, _ problem: String) -> ToolError { .invalidData(file: file, location: location(key), problem: problem) }
        func object(_ key: String?, _ value: JSONValue, known: [String]) throws(ToolError) -> [(String, JSONValue)] {
            guard let pairs = value.objectPairs else {
                throw key.map { fail($0, "must be an object (keys: \(known.joined(separator: ", ")))") }
                    ?? .invalidData(file: file, location: path.map { "\"\($0)\"" }, problem: "a style must be a JSON object of "
                                    + keys.joined(separator: ", "))
            }
            for (name, _) in pairs where !known.contains(name) {
                throw fail((key.map { $0 + "." } ?? "") + name,
                           "unknown key\(Wording.didYouMean(name, among: known)) (known: \(known.joined(separator: ", ")))")
            }
            return pairs
        }
        func bool(_ key: String, _ value: JSONValue) throws(ToolError) -> Bool {
            guard let flag = value.boolValue else { throw fail(key, "must be true or false") }
            return flag
        }
        func number(_ key: String, _ value: JSONValue, in range: ClosedRange<Double>, unit: String) throws(ToolError) -> Double {
            guard let number = value.numberValue, number.isFinite, range.contains(number) else {
                throw fail(key, "must be a number from \(plain(range.lowerBound)) to \(plain(range.upperBound))"
                           + " \(unit)")
            }
            return number
        }
        func colourMap(_ key: String, _ value: JSONValue, among maps: [ColorMap], kind: String) throws(ToolError) -> ColorMap {
            let names = maps.map(styleName)
            guard let name = value.stringValue else { throw fail(key, "must be the name of a \(kind) map: \(names.joined(separator: ", "))") }
            guard let map = maps.first(where: { styleName($0) == name.lowercased() }) else {
                throw fail(key, "unknown \(kind) colour map \(Wording.quoted(name))\(Wording.didYouMean(name, among: names)) "
                           + "(use \(names.joined(separator: ", ")))")
            }
            return map
        }

        func colourRange(_ key: String, _ value: JSONValue) throws(ToolError) -> FigureStyle.ColourRange {
            let usage = "must be \"auto\", \"robust\" or [vmin, vmax] with finite vmin < vmax"
            if let name = value.stringValue {
                switch name.lowercased() {
                case "auto": return .auto
                case "robust": return .robust
                default:
                    let suggestion = Wording.didYouMean(name, among: ["auto", "robust"])
                    throw fail(key, "unknown colour range \(Wording.quoted(name))\(suggestion); " + usage)
                }
            }
            guard let bounds = value.arrayValue?.compactMap(\.numberValue), value.arrayValue?.count == 2, bounds.count == 2,
                  bounds.allSatisfy(\.isFinite), bounds[0] < bounds[1] else { throw fail(key, usage) }
            return .fixed(bounds[0], bounds[1])
        }

        var style = base
        for (key, value) in try object(nil, value, known: keys) where !value.isNull {
            switch key {
            case "font":
                for (fontKey, fontValue) in try object("font", value, known: fontKeys) where !fontValue.isNull {
                    if fontKey == "family" {
                        guard let family = fontValue.stringValue?.trimmingCharacters(in: .whitespaces), !family.isEmpty,
                              !family.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                            throw fail("font.family", "must be a font family name, e.g. \"DejaVu Serif\"")
                        }
                        style.fontFamily = family
                    } else {
                        style.fontSize = try number("font.size", fontValue, in: fontSizes, unit: "points")
                    }
                }
            case "titles": style.titles = try bool(key, value)
            case "annotations": style.annotations = try bool(key, value)
            case "colour_map":
                if value.stringValue != nil {
                    style.heatmapColourMap = try colourMap(key, value, among: FigureStyle.sequentialMaps, kind: "sequential")
                } else {
                    for (kind, name) in try object(key, value, known: colourMapKeys) where !name.isNull {
                        if kind == "heatmap" {
                            style.heatmapColourMap = try colourMap("colour_map.heatmap", name, among: FigureStyle.sequentialMaps, kind: "sequential")
                        } else {
                            style.deltaColourMap = try colourMap("colour_map.delta", name, among: FigureStyle.divergingMaps, kind: "diverging")
                        }
                    }
                }
            case "colour_range":
                if value.objectPairs != nil {
                    let ids = DistanceMetric.allCases.map(\.id) + ["delta"]
                    for (id, range) in try object(key, value, known: ids) where !range.isNull {
                        style.colourRanges[id] = try colourRange("colour_range.\(id)", range)
                    }
                } else {
                    style.colourRange = try colourRange(key, value)
                }
            case "number_format":
                guard let decimals = value.intValue, (0...6).contains(decimals) else {
                    throw fail(key, "must be the number of digits after the decimal point, 0 to 6")
                }
                style.decimals = decimals
            case "png_dpi": style.pngDPI = try number(key, value, in: dpiRange, unit: "dots per inch")
            default:  // "width"
                let text = value.numberValue.map { plain($0) } ?? value.stringValue
                do {
                    style.width = try ReportRequest.parseFigureWidth(text ?? "")
                } catch {
                    throw fail(key, "must be \"single\" (240 pt), \"double\" (500 pt) or a width in points from 150 to 1000")
                }
            }
        }
        return style
    }

    /// 240 → "240", 2.5 → "2.5".
    static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// How a style file names a colour map: "viridis", "blue_red".
    static func styleName(_ map: ColorMap) -> String {
        switch map.name {
        case ColorMap.blueRed.name: return "blue_red"
        case ColorMap.purpleOrange.name: return "purple_orange"
        default: return map.name
        }
    }

    /// `style` with its font family when Pango has it, else with DejaVu Sans and a warning naming
    /// both. Loads Cairo and Pango.
    public static func resolvingFont(_ style: FigureStyle) -> (style: FigureStyle, warning: Warning?) {
        guard style.fontFamily != FigureStyle.defaultFontFamily, !FontFamilies.isInstalled(style.fontFamily) else { return (style, nil) }
        var fallback = style
        fallback.fontFamily = FigureStyle.defaultFontFamily
        let suggestion = Wording.didYouMean(style.fontFamily, among: FontFamilies.installed())
        return (fallback, Warning("font \(Wording.quoted(style.fontFamily)) is not installed\(suggestion); "
                                  + "figures and the PDF use \(FigureStyle.defaultFontFamily) instead (fc-list lists the installed fonts)"))
    }
}
