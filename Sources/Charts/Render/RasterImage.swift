import CCairo
import Foundation

/// A decoded bitmap, for comparing PNG output pixel by pixel.
public struct RasterImage: Hashable, Sendable {
    public let width: Int
    public let height: Int
    /// Row-major pixels as 0xAARRGGBB with premultiplied colour (Cairo's ARGB32).
    public let pixels: [UInt32]

    public enum DecodeError: Error { case notPNG(String) }

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
