import Foundation
import TVGeoTestSupport
import XCTest

/// The code keeps to the line length stated in `.swift-format` (`lineLength`, in characters):
/// every Swift file under Sources/, Tests/ and Fuzz/Sources/.
final class SourceLineLengthTests: XCTestCase {
    func testEverySwiftLineFitsTheStatedLength() throws {
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/.swift-format")))
        let limit = try XCTUnwrap((config as? [String: Any])?["lineLength"] as? Int, ".swift-format states no lineLength")
        var checked = 0
        var long: [String] = []
        for folder in ["Sources", "Tests", "Fuzz/Sources"] {
            let root = repositoryRoot + "/" + folder
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            for case let path as String in walker where path.hasSuffix(".swift") {
                let text = try String(contentsOfFile: root + "/" + path, encoding: .utf8)
                checked += 1
                for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where line.count > limit {
                    long.append("\(folder)/\(path):\(index + 1): \(line.count) characters")
                }
            }
        }
        XCTAssertGreaterThan(checked, 100, "the walk found the sources")
        XCTAssertTrue(long.isEmpty, "lines longer than \(limit) characters:\n" + long.joined(separator: "\n"))
    }
}
