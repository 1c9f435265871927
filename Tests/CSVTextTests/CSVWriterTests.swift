import CSVText
import XCTest

final class CSVWriterTests: XCTestCase {
    func field(_ field: CSVField) -> String { CSVWriter.field(field) }

    func testTextIsQuotedPerRFC4180() {
        XCTAssertEqual(field(.text("plain")), "plain")
        XCTAssertEqual(field(.text("")), "")
        XCTAssertEqual(field(.text("a,b")), "\"a,b\"")
        XCTAssertEqual(field(.text("say \"hi\"")), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(field(.text("two\nlines")), "\"two\nlines\"")
        XCTAssertEqual(field(.text("cr\rlf\r\n")), "\"cr\rlf\r\n\"")
        XCTAssertEqual(field(.text("line\u{2028}separator")), "\"line\u{2028}separator\"")
        // A quote inside a grapheme cluster is still doubled.
        XCTAssertEqual(field(.text("\"\u{301}")), "\"\"\"\u{301}\"")
        XCTAssertEqual(field(.text("tab\tinside")), "tab\tinside")
    }

    func testTextThatStartsLikeAFormulaGetsAQuotePrefix() {
        XCTAssertEqual(field(.text("=1+1")), "'=1+1")
        XCTAssertEqual(field(.text("+x")), "'+x")
        XCTAssertEqual(field(.text("-x")), "'-x")
        XCTAssertEqual(field(.text("@x")), "'@x")
        XCTAssertEqual(field(.text("\tx")), "'\tx")
        XCTAssertEqual(field(.text("\rx")), "\"'\rx\"")
        XCTAssertEqual(field(.text("=HYPERLINK(\"http://x\",\"y\")")), "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"")
        // Text is text even when it looks like a number.
        XCTAssertEqual(field(.text("-1")), "'-1")
        // Only the first character counts.
        XCTAssertEqual(field(.text("a=1")), "a=1")
        XCTAssertEqual(field(.text(" =1")), " =1")
        XCTAssertEqual(field(.text("'=1")), "'=1")
    }

    func testNumbersAreNeverPrefixed() {
        XCTAssertEqual(field(.number(-0.5)), "-0.5")
        XCTAssertEqual(field(.number(-1e-3)), "-0.001")
        XCTAssertEqual(field(.number(-1e-5)), "-1e-05")
        XCTAssertEqual(field(.number(0.1 + 0.2)), "0.30000000000000004")
        XCTAssertEqual(field(.number(2)), "2.0")
        XCTAssertEqual(field(.integer(-3)), "-3")
        XCTAssertEqual(field(.empty), "")
    }

    func testNumeralsPassOnlyWhenTheyAreNumbers() {
        for numeral in ["-0.25", "8", "-16", "0.50", "1e-05", "-1.5E+3", "12e3"] {
            XCTAssertEqual(field(.numeral(numeral)), numeral)
        }
        // Anything else is text, with the text's protection.
        XCTAssertEqual(field(.numeral("-1+1")), "'-1+1")
        XCTAssertEqual(field(.numeral("-")), "'-")
        XCTAssertEqual(field(.numeral("+1")), "'+1")
        XCTAssertEqual(field(.numeral("=1")), "'=1")
        XCTAssertEqual(field(.numeral("1,5")), "\"1,5\"")
        XCTAssertEqual(field(.numeral("1.")), "1.")
        XCTAssertEqual(field(.numeral("-1.")), "'-1.")
        XCTAssertEqual(field(.numeral("-1e")), "'-1e")
        XCTAssertEqual(field(.numeral("-١")), "'-١", "Arabic-Indic digits are not ASCII digits")
        XCTAssertEqual(field(.numeral("−0.5")), "−0.5", "a Unicode minus is text that needs no prefix")
    }

    func testRecordsAndText() {
        XCTAssertEqual(CSVWriter.record([.text("a,b"), .number(0.5), .empty, .integer(3)]), "\"a,b\",0.5,,3")
        XCTAssertEqual(CSVWriter.text([[.text("task"), .text("=x")], [.text("=x"), .number(-0.5)]]),
                       "task,'=x\n'=x,-0.5\n")
        XCTAssertEqual(CSVWriter.text([]), "")
    }
}
