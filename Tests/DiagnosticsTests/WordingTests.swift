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

    func testLookAlikesAreShownAsCodePoints() {
        XCTAssertEqual(Wording.escaped("cola+rt\u{0435}"), "cola+rt\\u{0435}", "a Cyrillic е among ASCII letters")
        XCTAssertEqual(Wording.escaped("rte\u{200B}"), "rte\\u{200B}", "an invisible character")
        XCTAssertEqual(Wording.escaped("sst2\u{2013}x"), "sst2\\u{2013}x", "an en dash that reads as a hyphen")
        XCTAssertEqual(Wording.escaped("\u{1D41A}b"), "\\u{1D41A}b", "more than four hex digits")
        XCTAssertEqual(Wording.escaped("cola+rte"), "cola+rte", "plain ASCII is unchanged")
        XCTAssertEqual(Wording.escaped("情感"), "情感", "no ASCII letter: shown as is")
        XCTAssertEqual(Wording.escaped("情感+2"), "情感+2", "ASCII digits and signs are not letters")
        XCTAssertEqual(Wording.escaped("a\u{85}b"), "a\u{85}b", "control characters are left to ToolError")
        XCTAssertEqual(Wording.quoted("cola+rt\u{0435}"), "\"cola+rt\\u{0435}\"")
        XCTAssertEqual(Wording.quoted("rte"), "\"rte\"")
        XCTAssertEqual(Wording.quoted("a\"b"), "\"a\\\"b\"", "a quote inside is escaped")
        XCTAssertEqual(Wording.quoted("rt\\u{0435}"), "\"rt\\\\u{0435}\"", "a typed escape cannot pass for a real one")
        XCTAssertEqual(Wording.didYouMean("rt\u{0435}", among: ["rte", "cola"]), " (did you mean rte?)")
        XCTAssertEqual(Wording.didYouMean("rte", among: ["rt\u{0435}"]), " (did you mean rt\\u{0435}?)", "suggestions are escaped too")
        let error = ToolError.usage("unknown task \(Wording.quoted("rt\u{0435}\n"))")
        XCTAssertEqual(error.message, "unknown task \"rt\\u{0435}\\n\"", "ToolError still escapes control characters")
    }
}
