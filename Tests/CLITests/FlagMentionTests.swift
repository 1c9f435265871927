import Foundation
import TVGeoTestSupport
import XCTest

/// No message suggests a flag its command rejects: every `--flag` written in a source file is
/// accepted, according to `--help`, by each command that runs that file's code.
final class FlagMentionTests: XCTestCase {
    static let commands = ["analyze", "report", "merge", "convert"]

    /// The commands whose runs reach the code (and so may print the messages) of a source file.
    static func commands(printing path: String) -> [String] {
        let rules: [(String, [String])] = [
            // The chart kit prints nothing; its gallery's sample text shows made-up options.
            ("Sources/Charts/", []),
            ("Sources/Study/Merge/", ["merge"]), ("Sources/tvgeo/MergeCommand.swift", ["merge"]),
            ("Sources/Study/CheckpointConversion.swift", ["convert"]), ("Sources/tvgeo/ConvertCommand.swift", ["convert"]),
            ("Sources/Reporting/", ["report"]), ("Sources/tvgeo/ReportCommand.swift", ["report"]),
            ("Sources/tvgeo/TVGeoCommand.swift", ["analyze"]),
            ("Sources/Study/OutputFolder.swift", ["analyze", "report", "merge"]),
            ("Sources/TensorIO/", ["analyze", "report", "merge", "convert"]),
            ("Sources/Study/", ["analyze", "report"]), ("Sources/StudyFigures/", ["analyze", "report"]),
            ("Sources/tvgeo/StudyOptions.swift", ["analyze", "report"]),
        ]
        return rules.first { path.hasPrefix($0.0) }?.1 ?? commands
    }

    static func flags(in text: String) -> Set<String> {
        let pattern = try! NSRegularExpression(pattern: "--[a-z][a-z0-9-]*[a-z0-9]")
        let range = NSRange(text.startIndex..., in: text)
        return Set(pattern.matches(in: text, range: range).map { String(text[Range($0.range, in: text)!]) })
    }

    func testEveryFlagASourceFileNamesIsAcceptedByItsCommands() throws {
        var accepted: [String: Set<String>] = [:]
        for command in Self.commands {
            let help = try runTVGeo([command, "--help"], in: NSTemporaryDirectory())
            XCTAssertEqual(help.status, 0, help.stderr)
            accepted[command] = Self.flags(in: help.stdout)
        }
        XCTAssertTrue(accepted["merge"]?.contains("--force") ?? false, "the help lists the flags")
        var checked = 0
        var problems: [String] = []
        let root = repositoryRoot + "/Sources"
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: root))
        for case let relative as String in walker where relative.hasSuffix(".swift") {
            let path = "Sources/" + relative
            let text = try String(contentsOfFile: repositoryRoot + "/" + path, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                // Messages live in string literals; comments may speak of any flag.
                guard !code.hasPrefix("//"), code.contains("\"") else { continue }
                for flag in Self.flags(in: String(line)) {
                    checked += 1
                    for command in Self.commands(printing: path) where !(accepted[command]?.contains(flag) ?? false) {
                        problems.append("\(path):\(number + 1): \(flag) is not an option of `tvgeo \(command)`")
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 20, "the walk found the messages")
        XCTAssertEqual(problems, [])
    }
}
