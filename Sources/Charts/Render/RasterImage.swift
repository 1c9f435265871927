import CCairo
import Foundation

/// A bitmap: decoded from PNG (to compare output pixel by pixel) or built from colours (the
/// pixels of a `Mark.image`, such as a large heatmap's cells, one pixel per cell).
public struct RasterImage: Hashable, Sendable {
    public let width: Int
    public let height: Int
    /// Row-major pixels as 0xAARRGGBB with premultiplied colour (Cairo's ARGB32).
    public let pixels: [UInt32]

    public enum DecodeError: Error { case notPNG(String) }

    /// An image from `colors`, row-major, `width` per row; nil entries are fully transparent.
    /// Colours are rounded to 8 bits per channel and stored premultiplied, as Cairo keeps them.
    /// Precondition: `width`, `height` ≥ 0 and `colors.count == width * height`.
    public init(width: Int, height: Int, colors: [Color?]) {
        precondition(width >= 0 && height >= 0 && colors.count == width * height, "RasterImage: \(colors.count) colours for \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = colors.map { color in
            guard let color, color.alpha > 0 else { return 0 }
            func byte(_ v: Double) -> UInt32 { UInt32((v * 255).rounded()) }
            let a = byte(color.alpha)
            // Premultiplied from the 8-bit straight components, rounded as Cairo's PNG reader does.
            func premultiplied(_ v: Double) -> UInt32 { (byte(v) * a + 127) / 255 }
            return a << 24 | premultiplied(color.red) << 16 | premultiplied(color.green) << 8 | premultiplied(color.blue)
        }
    }

    /// The straight (un-premultiplied) colour of pixel (`x`, `y`), components rounded to 8 bits
    /// (as 0...1); nil for a fully transparent pixel.
    public func color(x: Int, y: Int) -> Color? {
        let p = pixels[y * width + x]
        let a = p >> 24
        guard a > 0 else { return nil }
        func channel(_ shift: UInt32) -> Double {
            let v = (p >> shift) & 0xFF
            return Double(a == 0xFF ? v : (v * 255 + a / 2) / a) / 255
        }
        return Color(red: channel(16), green: channel(8), blue: channel(0), alpha: Double(a) / 255)
    }

    /// A Cairo ARGB32 image surface holding the pixels (the caller destroys it); nil for an
    /// empty image or when Cairo cannot allocate it.
    func makeSurface() -> OpaquePointer? {
        guard width > 0, height > 0, let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)) else {
            return nil
        }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS, let base = cairo_image_surface_get_data(surface) else {
            cairo_surface_destroy(surface)
            return nil
        }
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        pixels.withUnsafeBufferPointer { source in
            for row in 0..<height {
                let target = UnsafeMutableRawPointer(base + row * stride).assumingMemoryBound(to: UInt32.self)
                for column in 0..<width { target[column] = source[row * width + column] }
            }
        }
        cairo_surface_mark_dirty(surface)
        return surface
    }

    /// The image as PNG bytes (no pHYs chunk: an embedded image takes its size from its mark).
    public func pngData() throws -> Data {
        guard let surface = makeSurface() else { throw RenderError.cairo("cannot make a \(width)×\(height) image surface") }
        defer { cairo_surface_destroy(surface) }
        return try PNGEncoder.encode(surface, level: PNGEncoder.embeddedCompressionLevel)
    }

    /// Decodes PNG bytes with Cairo.
    public init(png: Data) throws {
        let source = ByteSource(png)
        let surface = cairo_image_surface_create_from_png_stream(readFromSource, Unmanaged.passUnretained(source).toOpaque())!
        defer { cairo_surface_destroy(surface) }
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw DecodeError.notPNG(String(cString: cairo_status_to_string(status)))
        }
        let converted: OpaquePointer
        if cairo_image_surface_get_format(surface) == CAIRO_FORMAT_ARGB32 {
            converted = cairo_surface_reference(surface)
        } else {
            // RGB24 and other formats: paint onto ARGB32 so every pixel reads the same way.
            converted = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, cairo_image_surface_get_width(surface),
                                                   cairo_image_surface_get_height(surface))
            let cr = cairo_create(converted)
            cairo_set_source_surface(cr, surface, 0, 0)
            cairo_paint(cr)
            cairo_destroy(cr)
        }
        defer { cairo_surface_destroy(converted) }
        cairo_surface_flush(converted)
        width = Int(cairo_image_surface_get_width(converted))
        height = Int(cairo_image_surface_get_height(converted))
        let stride = Int(cairo_image_surface_get_stride(converted))
        let base = cairo_image_surface_get_data(converted)!
        var pixels = [UInt32](repeating: 0, count: width * height)
        for row in 0..<height {
            let rowPointer = UnsafeRawPointer(base + row * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<width { pixels[row * width + column] = rowPointer[column] }
        }
        self.pixels = pixels
        withExtendedLifetime(source) {}
    }

    /// How far two images of the same size are apart.
    public struct Difference: Hashable, Sendable {
        /// The largest difference of any channel (alpha, red, green, blue) of any pixel, 0...255.
        public var maximumChannelDelta: Int
        /// Pixels with some channel differing by more than the tolerance given to `difference`.
        public var differingPixels: Int
        public var totalPixels: Int

        public var differingFraction: Double { totalPixels == 0 ? 0 : Double(differingPixels) / Double(totalPixels) }
    }

    /// The per-pixel difference from `other`; nil when the sizes differ. A pixel counts as differing
    /// when any channel differs by more than `tolerance` (0...255).
    public func difference(from other: RasterImage, tolerance: Int) -> Difference? {
        guard width == other.width, height == other.height else { return nil }
        var maximum = 0, differing = 0
        for (a, b) in zip(pixels, other.pixels) where a != b {
            var pixelMax = 0
            for shift in stride(from: 0, through: 24, by: 8) {
                let delta = abs(Int((a >> UInt32(shift)) & 0xFF) - Int((b >> UInt32(shift)) & 0xFF))
                pixelMax = max(pixelMax, delta)
            }
            maximum = max(maximum, pixelMax)
            if pixelMax > tolerance { differing += 1 }
        }
        return Difference(maximumChannelDelta: maximum, differingPixels: differing, totalPixels: pixels.count)
    }
}
