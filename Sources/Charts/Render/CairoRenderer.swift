import CCairo
import CPango
import Foundation

/// Draws scenes with Cairo (and text with Pango) to PDF 1.5 or PNG; SVG 1.1 is written by
/// `SVGSceneWriter` from the same scene (text as `<text>`, laid out by the same Pango code).
///
/// Output is deterministic: the same scene and figure id give the same bytes. The PDF carries no
/// creation date, its title is the scene's title and its creator "tvgeo"; SVG ids are prefixed with
/// the figure id (see `SVGIdentifiers`); PNG has no time chunk and records its resolution (pHYs).
public struct CairoRenderer: Renderer {
    /// The largest bitmap side, in pixels, that `render` accepts.
    public static let maximumPixelSide = 32_768.0

    public init() {}

    public func render(_ scene: Scene, format: OutputFormat, figureID: String) throws -> Data {
        guard SVGIdentifiers.isValidFigureID(figureID) else { throw RenderError.invalidFigureID(figureID) }
        let size = scene.size
        guard size.width.isFinite, size.height.isFinite, size.width > 0, size.height > 0 else {
            throw RenderError.invalidSize(size)
        }
        switch format {
        case .svg:
            // Written from the scene, not through Cairo's SVG surface, so text stays text.
            return try SVGSceneWriter().svg(scene, figureID: figureID)
        case .pdf:
            return try renderVector(scene) { sink in Self.makePDFSurface(sink, size: size, title: scene.title) }
        case .png(let scale):
            return try renderPNG(scene, scale: scale)
        }
    }

    /// A multi-page PDF 1.5: one page per scene, each page as large as its scene, with the same
    /// determinism as `render(_:format:figureID:)` (no dates, Creator "tvgeo", Title `title` when
    /// given). Cairo embeds the fonts as subsets. Throws `RenderError.noPages` for no scenes and
    /// `RenderError.invalidSize` when a scene's size is not finite and positive.
    public func renderPDF(pages: [Scene], title: String?) throws -> Data {
        guard let first = pages.first else { throw RenderError.noPages }
        for page in pages {
            let size = page.size
            guard size.width.isFinite, size.height.isFinite, size.width > 0, size.height > 0 else {
                throw RenderError.invalidSize(size)
            }
        }
        return try renderVector(makeSurface: { Self.makePDFSurface($0, size: first.size, title: title) }) { cr, surface in
            for page in pages {
                // Applies to the page about to be drawn; must come before any drawing on it.
                cairo_pdf_surface_set_size(surface, page.size.width, page.size.height)
                CairoDrawing.draw(page, on: cr)
                cairo_show_page(cr)
            }
        }
    }

    /// A PDF 1.5 surface writing into the `ByteSink` at `sink`, without dates, Creator "tvgeo".
    private static func makePDFSurface(_ sink: UnsafeMutableRawPointer, size: Size, title: String?) -> OpaquePointer {
        let surface = cairo_pdf_surface_create_for_stream(appendToSink, sink, size.width, size.height)!
        cairo_pdf_surface_restrict_to_version(surface, CAIRO_PDF_VERSION_1_5)
        // Cairo 1.16 stamps the current time as CreationDate; an empty value omits the entry.
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, "")
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, "")
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "tvgeo")
        if let title, !title.isEmpty {
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, PangoText.cairoText(title))
        }
        return surface
    }

    private func renderVector(_ scene: Scene, makeSurface: (UnsafeMutableRawPointer) -> OpaquePointer) throws -> Data {
        try renderVector(makeSurface: makeSurface) { cr, _ in CairoDrawing.draw(scene, on: cr) }
    }

    /// Creates a vector surface writing into a byte sink, lets `draw` paint it, finishes it and
    /// returns the bytes, or the first Cairo error.
    private func renderVector(makeSurface: (UnsafeMutableRawPointer) -> OpaquePointer,
                              draw: (OpaquePointer, OpaquePointer) -> Void) throws -> Data {
        let sink = ByteSink()
        let surface = makeSurface(Unmanaged.passUnretained(sink).toOpaque())
        let cr = cairo_create(surface)!
        draw(cr, surface)
        let drawStatus = cairo_status(cr)
        cairo_destroy(cr)
        cairo_surface_finish(surface)
        let surfaceStatus = cairo_surface_status(surface)
        cairo_surface_destroy(surface)
        try checkCairo(drawStatus)
        try checkCairo(surfaceStatus)
        return withExtendedLifetime(sink) { sink.data }
    }

    private func renderPNG(_ scene: Scene, scale: Double) throws -> Data {
        let width = (scene.size.width * scale).rounded(.up)
        let height = (scene.size.height * scale).rounded(.up)
        guard scale.isFinite, scale > 0, width >= 1, height >= 1,
              width <= Self.maximumPixelSide, height <= Self.maximumPixelSide else {
            throw RenderError.invalidSize(Size(width: scene.size.width * scale, height: scene.size.height * scale))
        }
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height))!
        defer { cairo_surface_destroy(surface) }
        try checkCairo(cairo_surface_status(surface))
        let cr = cairo_create(surface)!
        cairo_scale(cr, scale, scale)
        CairoDrawing.draw(scene, on: cr)
        let drawStatus = cairo_status(cr)
        cairo_destroy(cr)
        try checkCairo(drawStatus)
        return try PNGEncoder.encode(surface, pixelsPerPoint: scale)
    }
}
