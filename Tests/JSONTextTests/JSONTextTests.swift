import JSONText
import XCTest

final class JSONTextTests: XCTestCase {
    func testParsesScalarsObjectsAndKeepsKeyOrder() throws {
        let value = try JSONParser.parse(#"{"b": [1, -2.5e3, true, null], "a": "x\u00e9\ud83d\ude00\n"}"#)
        XCTAssertEqual(value.objectPairs?.map(\.0), ["b", "a"])
        XCTAssertEqual(value["b"], .array([.int(1), .double(-2500), .bool(true), .null]))
        XCTAssertEqual(value["a"]?.stringValue, "xé😀\n")
    }

    func testIntegersStayIntegersAndHugeOnesBecomeDoubles() throws {
        XCTAssertEqual(try JSONParser.parse("[0, -0, 9223372036854775807, 1.0, 1e2, 99999999999999999999]"),
                       .array([.int(0), .int(0), .int(Int.max), .double(1), .double(100), .double(1e20)]))
    }

    func testRefusesMalformedText() {
        let bad = ["", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\\x\"", "\"a", "{\"a\":1} x",
                   "\"\\ud800\"", "\"\u{01}\"", "[1 2]", "{1:2}", "NaN", "Infinity"]
        for text in bad {
            XCTAssertThrowsError(try JSONParser.parse(text), "accepted \(text.debugDescription)")
        }
    }

    func testRefusesDuplicateKeysInvalidUTF8AndDeepNesting() {
        XCTAssertThrowsError(try JSONParser.parse(#"{"w": 1, "w": 2}"#)) { error in
            XCTAssertTrue("\(error)".contains("duplicate key \"w\""), "\(error)")
        }
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xC3, 0x28, 0x22] as [UInt8])) { error in
            XCTAssertTrue("\(error)".contains("UTF-8"), "\(error)")
        }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try JSONParser.parse(deep)) { error in
            XCTAssertTrue("\(error)".contains("nesting"), "\(error)")
        }
    }

    /// Found by the JSON fuzz target: an out-of-range literal used to parse as ∞ and come back as null.
    func testNumbersOutOfDoubleRangeAreRefused() {
        for text in ["[1e400]", "[-1e400]", "1.7976931348623157e3008"] {
            XCTAssertThrowsError(try JSONParser.parse(text), text) { error in
                XCTAssertTrue("\(error)".contains("out of the range of a double"), "\(error)")
            }
        }
        XCTAssertEqual(try JSONParser.parse("[1e-400]"), .array([.double(0)]), "underflow to zero is a finite value")
    }

    func testWriterRoundTripsAndWritesNonFiniteAsNull() throws {
        let value = JSONValue.object([
            ("name", .string("quote\" back\\ tab\t ctl\u{01} ünï")),
            ("rows", .array([.array([.double(0.1), .double(1e-300), .int(-3)]), .array([.null, .bool(false), .double(2.5)])])),
            ("empty", .object([])), ("none", .array([])),
        ])
        let text = JSONWriter.string(value)
        XCTAssertEqual(try JSONParser.parse(text), value)
        XCTAssertTrue(text.contains("[0.1, 1e-300, -3]"), "scalar arrays stay on one line:\n\(text)")
        XCTAssertEqual(JSONWriter.string(.array([.number(.nan), .number(.infinity), .number(1)])), "[null, null, 1.0]\n")
    }

    func testDoublesRoundTripBitForBit() throws {
        let values = [0.1, 1.0 / 3, 6.02214076e23, -2.2250738585072014e-308, Double.leastNonzeroMagnitude, 1.7976931348623157e308]
        let parsed = try JSONParser.parse(JSONWriter.string(.array(values.map(JSONValue.double))))
        XCTAssertEqual(parsed.arrayValue?.compactMap(\.numberValue), values)
    }

    /// The parallel writer must produce exactly the serial text, whatever the nesting.
    func testParallelWriterWritesTheSameTextAsTheSerialOne() {
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        func value(depth: Int) -> JSONValue {
            switch next() % (depth > 3 ? 4 : 7) {
            case 0: return .null
            case 1: return .double(Double(Int64(bitPattern: next())) / 3e12)
            case 2: return .int(Int(truncatingIfNeeded: next() % 1000))
            case 3: return .string(["a", "τ\"q\"", "line\nbreak", ""][Int(next() % 4)])
            case 4, 5: return .object((0..<Int(next() % 5)).map { ("k\($0)", value(depth: depth + 1)) })
            default: return .array((0..<Int(next() % 5)).map { _ in value(depth: depth + 1) })
            }
        }
        for _ in 0..<300 {
            let document = JSONValue.object((0..<Int(next() % 6)).map { ("key\($0)", value(depth: 0)) })
            XCTAssertEqual(JSONWriter.stringInParallel(document), JSONWriter.string(document))
        }
        XCTAssertEqual(JSONWriter.stringInParallel(.array([.int(1)])), JSONWriter.string(.array([.int(1)])))
        XCTAssertEqual(JSONWriter.stringInParallel(.object([])), "{}\n")
    }
}
