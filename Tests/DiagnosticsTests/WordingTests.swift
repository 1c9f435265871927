import Diagnostics
import XCTest

final class WordingTests: XCTestCase {
    func testCounts() {
        XCTAssertEqual(Wording.count(1, "task"), "1 task")
        XCTAssertEqual(Wording.count(0, "task"), "0 tasks")
        XCTAssertEqual(Wording.count(8, "task"), "8 tasks")
    }

    func testEditDistance() {
        XCTAssertEqual(Wording.editDistance("", "abc"), 3)
        XCTAssertEqual(Wording.editDistance("report", "report"), 0)
        XCTAssertEqual(Wording.editDistance("reprot", "report"), 1, "a swap of neighbours is one edit")
        XCTAssertEqual(Wording.editDistance("grasmann", "grassmann"), 1)
        XCTAssertEqual(Wording.editDistance("kitten", "sitting"), 3)
    }

    func testClosest() {
        let names = ["report", "analyze", "merge", "convert"]
        XCTAssertEqual(Wording.closest(to: "reprot", among: names), "report")
        XCTAssertEqual(Wording.closest(to: "Merge", among: names), "merge", "case-insensitive")
        XCTAssertNil(Wording.closest(to: "fuzz", among: names), "nothing within two edits")
        XCTAssertNil(Wording.closest(to: "rte", among: ["hate"]), "two edits on a 3-letter name is not a typo")
        XCTAssertEqual(Wording.closest(to: "cloa", among: ["cola", "mrpc"]), "cola")
        XCTAssertEqual(Wording.didYouMean("analyse", among: names), " (did you mean analyze?)")
        XCTAssertEqual(Wording.didYouMean("zzz", among: names), "")
    }
}
