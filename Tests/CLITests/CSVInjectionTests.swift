import Foundation
import JSONText
import TVGeoTestSupport
import XCTest

/// Task names that a spreadsheet would run as formulas (`=1+1`, `+x`, `@x`, `-x`) are written to
/// every CSV file with a leading `'`, by `analyze`, `report` and `merge --all-pairs`; numbers stay
/// numbers.
final class CSVInjectionTests: XCTestCase {
    var directory: TemporaryDirectory!
    let hostileNames = ["=1+1", "+x", "@x", "-x"]

    override func setUp() { directory = TemporaryDirectory("csv-injection") }
    override func tearDown() { directory.remove() }

    /// `name=path` arguments for small adapters of one shape (query and value, two layers, rank 2),
    /// in folders with plain names.
    func adapters(_ names: [String]) -> [String] {
        var random = SeededRandom(seed: 13)
        return names.enumerated().map { index, name in
            var fixture = AdapterFixture(rank: 2, alpha: 4)
            for layer in 0..<2 {
                for module in ["query", "value"] {
                    fixture.addModule(layer: layer, module: module, b: random.gaussians(8 * 2), a: random.gaussians(2 * 8),
                                      outFeatures: 8, inFeatures: 8)
                }
            }
            return name + "=" + fixture.write(into: directory, name: "adapter\(index)")
        }
    }

    func run(_ arguments: [String]) throws -> CommandOutcome {
        try runTVGeo(arguments, in: directory.path)
    }

    func text(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    /// The records of a CSV text and their fields (RFC 4180 quotes; no line break inside a field).
    func records(_ csv: String) -> [[String]] {
        csv.split(separator: "\n").map { line in
            var fields: [String] = [], field = "", quoted = false
            let characters = Array(line.unicodeScalars)
            var index = 0
            while index < characters.count {
                let character = characters[index]
                if quoted, character == "\"" {
                    if index + 1 < characters.count, characters[index + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        index += 1
                    } else {
                        quoted = false
                    }
                } else if !quoted, character == "\"" {
                    quoted = true
                } else if !quoted, character == "," {
                    fields.append(field)
                    field = ""
                } else {
                    field.unicodeScalars.append(character)
                }
                index += 1
            }
            fields.append(field)
            return fields
        }
    }

    /// No field of the CSV starts like a formula unless it is a number; returns every field.
    @discardableResult
    func assertNoFormula(_ csv: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        let fields = records(csv).flatMap { $0 }
        for field in fields {
            if let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
                XCTAssertNotNil(Double(field), "\(name): field “\(field)” starts like a formula", file: file, line: line)
            }
        }
        return fields
    }

    func testAnalyzeDistanceTables() throws {
        let out = directory.path + "/study"
        let result = try run(["analyze", "--quiet", "--out", out, "--"] + adapters(hostileNames))
        XCTAssertEqual(result.status, 0, result.stderr)
        let tables = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".csv") }
        XCTAssertEqual(tables.count, 2 * 7, "one per metric (7) and module (2)")
        for table in tables {
            let csv = try text(out + "/" + table)
            assertNoFormula(csv, table)
            let rows = records(csv)
            XCTAssertEqual(rows[0], ["task", "'=1+1", "'+x", "'@x", "'-x"], table)
            XCTAssertEqual(rows.dropFirst().map(\.[0]), ["'=1+1", "'+x", "'@x", "'-x"], table)
            // The values are plain numbers.
            XCTAssertTrue(rows.dropFirst().allSatisfy { $0.dropFirst().allSatisfy { Double($0) != nil } }, table)
        }
        // metrics.json keeps the names as given.
        let metrics = try JSONParser.parse(Array(try text(out + "/metrics.json").utf8))
        XCTAssertEqual(metrics["tasks"], .array(hostileNames.map(JSONValue.string)))
    }

    func testReportTables() throws {
        let out = directory.path + "/report"
        let result = try run(["report", "--quiet", "--formats", "csv", "--out", out, "--"] + adapters(hostileNames))
        XCTAssertEqual(result.status, 0, result.stderr)
        let tables = try FileManager.default.contentsOfDirectory(atPath: out + "/tables").filter { $0.hasSuffix(".csv") }
        XCTAssertFalse(tables.isEmpty)
        var everyField: Set<String> = []
        for table in tables {
            everyField.formUnion(assertNoFormula(try text(out + "/tables/" + table), table))
        }
        for name in hostileNames {
            XCTAssertTrue(everyField.contains("'" + name), name)
        }
        let distances = records(try text(out + "/tables/distances-grassmann-query.csv"))
        XCTAssertEqual(distances[0], ["task", "'=1+1", "'+x", "'@x", "'-x"])
    }

    func testMergeManifest() throws {
        // `+x` and `@x` would share the folder `_x`, so `@x` is merged in a second run.
        let out = directory.path + "/pairs"
        let result = try run(["merge", "--all-pairs", "--quiet", "--out", out, "--"] + adapters(["=1+1", "+x", "-x"]))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try text(out + "/manifest.csv"), """
            host,partner,folder,method,status,reason
            '=1+1,'+x,_1_1+_x,comb,written,
            '=1+1,'-x,_1_1+-x,comb,written,
            '+x,'=1+1,_x+_1_1,comb,written,
            '+x,'-x,_x+-x,comb,written,
            '-x,'=1+1,'-x+_1_1,comb,written,
            '-x,'+x,'-x+_x,comb,written,

            """)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/-x+_1_1/adapter_model.safetensors"))
        // manifest.json keeps the names and folders as they are.
        let manifest = try JSONParser.parse(Array(try text(out + "/manifest.json").utf8))
        XCTAssertEqual(manifest["merges"]?.arrayValue?[4]["host"], .string("-x"))
        XCTAssertEqual(manifest["merges"]?.arrayValue?[4]["folder"], .string("-x+_1_1"))

        let second = directory.path + "/pairs-at"
        let at = try run(["merge", "--all-pairs", "--quiet", "--method", "cat", "--out", second, "--"] + adapters(["@x", "plain"]))
        XCTAssertEqual(at.status, 0, at.stderr)
        XCTAssertEqual(try text(second + "/manifest.csv"),
                       "host,partner,folder,method,status,reason\n'@x,plain,_x+plain,cat,written,\nplain,'@x,plain+_x,cat,written,\n")

        // Skipped pairs (comb, ranks 2 and 3) keep the prefix on their names; the reason is text too.
        var rank3 = AdapterFixture(rank: 3, alpha: 6)
        var random = SeededRandom(seed: 14)
        for layer in 0..<2 {
            for module in ["query", "value"] {
                rank3.addModule(layer: layer, module: module, b: random.gaussians(8 * 3), a: random.gaussians(3 * 8),
                                outFeatures: 8, inFeatures: 8)
            }
        }
        let third = directory.path + "/pairs-skipped"
        let skipped = try run(["merge", "--all-pairs", "--quiet", "--out", third, "--"]
                              + adapters(["=1+1", "-y"]) + ["@r3=" + rank3.write(into: directory, name: "rank3")])
        XCTAssertEqual(skipped.status, 0, skipped.stderr)
        let rows = try text(third + "/manifest.csv").split(separator: "\n").map(String.init)
        XCTAssertEqual(rows.count, 7)
        XCTAssertEqual(rows[1], "'=1+1,'-y,_1_1+-y,comb,written,")
        XCTAssertTrue(rows[2].hasPrefix("'=1+1,'@r3,,comb,skipped,"), rows[2])
        XCTAssertEqual(rows.filter { $0.contains(",skipped,") }.count, 4)
    }
}
