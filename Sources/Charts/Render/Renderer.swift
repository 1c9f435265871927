import Foundation

/// An output format. PNG is drawn at `scale` pixels per point (2 by default: a 240 pt wide figure
/// becomes 480 pixels wide) and records that resolution in its pHYs chunk (2 px/pt = 144 dpi).
public enum OutputFormat: Hashable, Sendable {
    case svg
    case pdf
    case png(scale: Double)

    /// PNG at 2 pixels per point.
    public static let png = OutputFormat.png(scale: 2)

    /// PNG at `dotsPerInch` pixels per inch (72 dpi is 1 pixel per point; 300 dpi for print).
    public static func png(dotsPerInch: Double) -> OutputFormat { .png(scale: dotsPerInch / 72) }

    /// The PNG resolution in pixels per inch; nil for vector formats.
    public var dotsPerInch: Double? {
        if case .png(let scale) = self { return scale * 72 }
        return nil
    }

    /// "svg", "pdf" or "png".
    public var fileExtension: String {
        switch self {
        case .svg: return "svg"
        case .pdf: return "pdf"
        case .png: return "png"
        }
    }

    /// The format named by a file extension (case-insensitive; PNG at 2×), nil if unknown.
    public init?(fileExtension: String) {
        switch fileExtension.lowercased() {
        case "svg": self = .svg
        case "pdf": self = .pdf
        case "png": self = .png
        default: return nil
        }
    }
}

public enum RenderError: Error, Equatable, CustomStringConvertible {
    /// Figure ids must match `[A-Za-z_][A-Za-z0-9_.-]*` so that they can prefix XML ids.
    case invalidFigureID(String)
    /// Width and height must be finite and positive (and small enough for a bitmap).
    case invalidSize(Size)
    /// Cairo reported a failure.
    case cairo(String)
    case unknownFileExtension(String)
    /// A multi-page document needs at least one page.
    case noPages

    public var description: String {
        switch self {
        case .invalidFigureID(let id): return "figure id \"\(id)\" is not a valid XML id prefix"
        case .invalidSize(let size): return "figure size \(size.width) × \(size.height) pt cannot be drawn"
        case .cairo(let message): return "cairo: \(message)"
        case .unknownFileExtension(let ext): return "no output format for the file extension \"\(ext)\""
        case .noPages: return "a PDF needs at least one page"
        }
    }
}

/// Draws a scene to the bytes of one file format.
public protocol Renderer: Sendable {
    /// The file's bytes. `figureID` prefixes every id inside an SVG so that several figures can be
    /// inlined into one HTML page; it is ignored by PDF and PNG.
    func render(_ scene: Scene, format: OutputFormat, figureID: String) throws -> Data
}

extension Renderer {
    /// Renders and writes atomically to `url`; the format comes from the file extension when nil.
    public func write(_ scene: Scene, to url: URL, format: OutputFormat? = nil, figureID: String) throws {
        guard let chosen = format ?? OutputFormat(fileExtension: url.pathExtension) else {
            throw RenderError.unknownFileExtension(url.pathExtension)
        }
        try render(scene, format: chosen, figureID: figureID).write(to: url, options: .atomic)
    }
}
