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
