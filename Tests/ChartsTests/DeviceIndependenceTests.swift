import CCairo
import CPango
@testable import Charts
import XCTest

/// The layout that drives chart geometry is measured once on a 1×1 image; the renderer lays the
/// same text out again on each output surface. These must agree, whatever the device scale or
/// rotation, or text would drift between SVG, PDF and PNG.
final class DeviceIndependenceTests: XCTestCase {
    private func metricsOnSurface(_ text: String, style: TextStyle, scale: Double, rotation: Double, vector: Bool) -> TextMetrics {
        let surface: OpaquePointer = vector
            ? cairo_svg_surface_create_for_stream(nil, nil, 200, 200)!
            : cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 400, 400)!
        let cr = cairo_create(surface)!
        cairo_scale(cr, scale, scale)
        cairo_rotate(cr, rotation)
        let layout = PangoText.makeLayout(for: cr, text: text, style: style, alignment: .start)
        let metrics = PangoText.metrics(of: layout)
        g_object_unref(UnsafeMutableRawPointer(layout))
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
        return metrics
    }

    func testMeasurementsMatchOnEverySurface() {
        let measurer = TextMeasurer()
        for text in ["Distance to centroid", "θ-task", "émotion", "0.42", "offensive-language-identification"] {
            for style in [TextStyle(size: 8), TextStyle(size: 10, weight: .bold), TextStyle(size: 6.25, italic: true)] {
                let reference = measurer.measure(text, style: style)
                for (scale, rotation, vector) in [(1.0, 0.0, true), (2.0, 0.0, false), (3.3, 0.0, false), (2.0, -Double.pi / 4, false),
                                                  (1.0, -Double.pi / 2, true)] {
                    let m = metricsOnSurface(text, style: style, scale: scale, rotation: rotation, vector: vector)
                    XCTAssertEqual(m.width, reference.width, accuracy: 1e-6, "\(text) width at scale \(scale), rotation \(rotation)")
                    XCTAssertEqual(m.height, reference.height, accuracy: 1e-6, "\(text) height at scale \(scale)")
                    XCTAssertEqual(m.baseline, reference.baseline, accuracy: 1e-6, "\(text) baseline at scale \(scale)")
                }
            }
        }
    }
}
