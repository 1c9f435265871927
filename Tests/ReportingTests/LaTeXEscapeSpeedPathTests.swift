@testable import Reporting
import XCTest

/// The ASCII paths of `LaTeXTable.escape` and `numericMinus` (table lookups and bytes instead of
/// Unicode property queries, for tables with hundreds of rows) give what the general rule gives.
final class LaTeXEscapeSpeedPathTests: XCTestCase {
    /// Every ASCII character: the specials as their commands, tab and the newlines (LF, VT, FF, CR
    /// and CR LF) as a space, the other controls and DEL dropped, the rest as it is.
    func testEveryASCIICharacter() {
        let specials: [Character: String] = [
            "\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "$": "\\$", "&": "\\&", "#": "\\#", "_": "\\_",
            "%": "\\%", "^": "\\textasciicircum{}", "~": "\\textasciitilde{}", "<": "\\textless{}", ">": "\\textgreater{}",
            "|": "\\textbar{}", "\"": "\\textquotedbl{}",
        ]
        for value in UInt8(0)...UInt8(0x7F) {
            let character = Character(Unicode.Scalar(value))
            let expected: String
            if let special = specials[character] {
                expected = special
            } else if (0x09...0x0D).contains(value) {
                expected = " "
            } else if value < 0x20 || value == 0x7F {
                expected = ""
            } else {
                expected = String(character)
            }
            XCTAssertEqual(LaTeXTable.escape("a" + String(character) + "b"), "a" + expected + "b", "U+\(String(value, radix: 16))")
        }
        XCTAssertEqual(LaTeXTable.escape("x\r\ny"), "x y")
        // Non-ASCII still takes the general path: replacements, NEL as a space, noncharacters dropped.
        XCTAssertEqual(LaTeXTable.escape("ρ\u{85}é\u{FFFF}_1"), "\\ensuremath{\\rho} é\\_1")
    }

    /// The byte path of ASCII text decides every hyphen as the Character path does (which a
    /// trailing non-ASCII letter selects without changing any decision).
    func testNumericMinusASCIIPathAgreesWithTheGeneralPath() {
        let cases = ["-0.22", "[-0.48, 0.05]", "run-1", "--1", "a-1", "x -.5", "-.x", "\\-1", "}-1", "-", "1-2", "(-3)", "-a",
                     "task-07 -7", " -9e-3", "{-1}", "-.", "$-$1"]
        for text in cases {
            let general = LaTeXTable.numericMinus(text + "é")
            XCTAssertEqual(LaTeXTable.numericMinus(text) + "é", general, text)
        }
        XCTAssertEqual(LaTeXTable.numericMinus("[-0.48, 0.05] run-1 -.5"), "[$-$0.48, 0.05] run-1 $-$.5")
    }
}
