import Charts
import Foundation
import XCTest

/// Text boxes on the page, as rotated rectangles (4 corners), for overlap checks.
func textBoxes(_ scene: Scene, measurer: TextMeasurer = .shared) -> [(text: String, corners: [Point])] {
    scene.textMarks.filter { !$0.text.isEmpty }.map { mark in
        (mark.text, mark.corners(for: measurer.measure(mark.text, style: mark.style)))
    }
}

/// How deep two convex quadrilaterals overlap (separating-axis theorem): 0 when they are apart or
/// only touch, otherwise the smallest penetration along the edge normals, in points.
func overlapDepth(_ a: [Point], _ b: [Point]) -> Double {
    var smallest = Double.infinity
    for polygon in [a, b] {
        for i in 0..<polygon.count {
            let p = polygon[i], q = polygon[(i + 1) % polygon.count]
            var nx = -(q.y - p.y), ny = q.x - p.x
            let length = (nx * nx + ny * ny).squareRoot()
            guard length > 1e-12 else { continue }
            nx /= length
            ny /= length
            let pa = a.map { $0.x * nx + $0.y * ny }, pb = b.map { $0.x * nx + $0.y * ny }
            let overlap = min(pa.max()!, pb.max()!) - max(pa.min()!, pb.min()!)
            if overlap <= 0 { return 0 }
            smallest = min(smallest, overlap)
        }
    }
    return smallest
}

/// Fails when two text boxes overlap by more than `tolerance` points or a text box leaves the page.
func assertTextIsClear(_ scene: Scene, tolerance: Double = 0.05, name: String = "", file: StaticString = #filePath, line: UInt = #line) {
    let boxes = textBoxes(scene)
    let page = Rect(x: 0, y: 0, width: scene.size.width, height: scene.size.height)
    for box in boxes {
        let bounds = Rect(enclosing: box.corners)!
        XCTAssertTrue(page.contains(bounds, tolerance: 0.01),
                      "\(name): \"\(box.text)\" at \(bounds) leaves the \(scene.size.width)×\(scene.size.height) page", file: file, line: line)
    }
    for i in boxes.indices {
        for j in boxes.indices where j > i {
            let depth = overlapDepth(boxes[i].corners, boxes[j].corners)
            XCTAssertLessThanOrEqual(depth, tolerance, "\(name): \"\(boxes[i].text)\" overlaps \"\(boxes[j].text)\" by \(depth) pt",
                                     file: file, line: line)
        }
    }
}

/// Fails when a mark reaches beyond the page by more than `tolerance` points: paths and
/// rectangles (with half their stroke), text boxes, and clip regions (what a clip cuts away cannot
/// leave the page, so the marks inside a clip are not checked). Groups are followed through their
/// transforms.
func assertMarksInsidePage(_ scene: Scene, tolerance: Double = 0.01, name: String = "", file: StaticString = #filePath, line: UInt = #line) {
    let page = Rect(x: 0, y: 0, width: scene.size.width, height: scene.size.height)
    func check(_ description: String, _ bounds: Rect) {
        XCTAssertTrue(page.contains(bounds, tolerance: tolerance), "\(name): \(description) at \(bounds) leaves the page", file: file, line: line)
    }
    func walk(_ marks: [Mark], _ transform: Transform) {
        for mark in marks {
            switch mark {
            case .rect(let rect, let style):
                let pad = style.stroke == nil ? 0 : style.lineWidth / 2
                check("rect", transform.apply(rect.insetBy(dx: -pad, dy: -pad)))
            case .path(let path, let style):
                guard let b = path.bounds else { continue }
                let pad = style.stroke == nil ? 0 : style.lineWidth / 2
                check("path", transform.apply(b.insetBy(dx: -pad, dy: -pad)))
            case .text(let text):
                check("text \"\(text.text)\"", TextMeasurer.shared.bounds(of: text.transformed(by: transform)))
            case .clipped(let clip, _):
                check("clip", transform.apply(clip))
            case .image(_, let rect, _):
                check("image", transform.apply(rect))
            case .group(let inner, let children):
                walk(children, transform.concatenating(inner))
            case .titled(_, let children):
                walk(children, transform)
            }
        }
    }
    walk(scene.marks, .identity)
}
