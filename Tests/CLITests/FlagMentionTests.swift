import Foundation
import TVGeoTestSupport
import XCTest

/// No message suggests a flag its command rejects: every `--flag` written in a source file is
/// accepted, according to `--help`, by each command that runs that file's code — or, for a flag
/// written after "tvgeo <command>" in the same line (a hint to run another command), by that command.
final class FlagMentionTests: XCTestCase {
    static let commands = ["analyze", "report", "merge", "convert", "combine", "export"]

    /// The commands whose runs reach the code (and so may print the messages) of a source file.
    static func commands(printing path: String) -> [String] {
        let rules: [(String, [String])] = [
            // The chart kit prints nothing; its gallery's sample text shows made-up options.
            ("Sources/Charts/", []),
            ("Sources/Study/Merge/", ["merge"]), ("Sources/tvgeo/MergeCommand.swift", ["merge"]),
            ("Sources/Study/CheckpointConversion.swift", ["convert"]), ("Sources/tvgeo/ConvertCommand.swift", ["convert"]),
            ("Sources/Reporting/", ["report"]), ("Sources/tvgeo/ReportCommand.swift", ["report"]),
            ("Sources/tvgeo/TVGeoCommand.swift", ["analyze"]),
            ("Sources/tvgeo/AnalyzePart.swift", ["analyze"]), ("Sources/Study/Parts/StudyPart.swift", ["analyze"]),
            ("Sources/tvgeo/ExportCommand.swift", ["export"]), ("Sources/Study/LayersExport.swift", ["export"]),
            ("Sources/tvgeo/CombineCommand.swift", ["combine"]), ("Sources/Study/Parts/StudyCombine.swift", ["combine"]),
            ("Sources/Study/OutputFolder.swift", ["analyze", "report", "merge", "combine"]),
            ("Sources/TensorIO/", ["analyze", "report", "merge", "convert"]),
            ("Sources/Study/", ["analyze", "report"]), ("Sources/StudyFigures/", ["analyze", "report"]),
            ("Sources/tvgeo/StudyOptions.swift", ["analyze", "report"]),
        ]
        return rules.first { path.hasPrefix($0.0) }?.1 ?? commands.filter { $0 != "export" }
    }

    static func flags(in text: String) -> Set<String> {
        Set(flagsWithPosition(in: text).map(\.flag))
    }

    static func flagsWithPosition(in text: String) -> [(flag: String, offset: Int)] {
        let pattern = try! NSRegularExpression(pattern: "--[a-z][a-z0-9-]*[a-z0-9]")
        let range = NSRange(text.startIndex..., in: text)
        return pattern.matches(in: text, range: range).map { (String(text[Range($0.range, in: text)!]), $0.range.location) }
    }

    /// The command of the last "tvgeo <command>" before `offset` in `line`, if any.
    static func namedCommand(before offset: Int, in line: String) -> String? {
        let text = line as NSString
        var best: (Int, String)?
        for command in commands {
            var search = NSRange(location: 0, length: min(offset, text.length))
            while case let found = text.range(of: "tvgeo " + command, range: search), found.location != NSNotFound {
                if best == nil || found.location > best!.0 { best = (found.location, command) }
                search = NSRange(location: found.location + 1, length: search.length - (found.location + 1 - search.location))
            }
        }
        return best?.1
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
                for (flag, offset) in Self.flagsWithPosition(in: String(line)) {
                    checked += 1
                    let named = Self.namedCommand(before: offset, in: String(line))
                    for command in named.map({ [$0] }) ?? Self.commands(printing: path) where !(accepted[command]?.contains(flag) ?? false) {
                        problems.append("\(path):\(number + 1): \(flag) is not an option of `tvgeo \(command)`")
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 20, "the walk found the messages")
        XCTAssertEqual(problems, [])
    }
}
