import Foundation
import JSONText
import TVGeoTestSupport
import XCTest

/// kill -9 at any moment of a report: the target holds the earlier report or the new one, whole.
final class OutputAtomicityTests: XCTestCase {
    let adapters = ReportCommandTests.adapters

    /// Run A (3 tasks) and run B (4 tasks, CSV tables too) differ in files, numbers and title.
    func arguments(_ title: String, tasks: Int, out: String) -> [String] {
        let formats = tasks == 3 ? "json,html,svg,tex" : "json,html,svg,tex,csv"
        return ["report", "--quiet", "--title", title, "--formats", formats] + Array(adapters.prefix(tasks)) + ["--out", out]
    }

    /// What the folder holds: its files, the tasks of its metrics.json and the title of its page.
    func snapshot(_ folder: String) throws -> (files: [String], tasks: Int, title: String) {
        let files = (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).sorted()
        let metrics = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/metrics.json"))))
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        let title = html.components(separatedBy: "<title>").dropFirst().first?.components(separatedBy: "</title>").first ?? ""
        return (files, metrics["tasks"]?.arrayValue?.count ?? -1, title)
    }

    func testKillNineLeavesTheOldReportOrTheNewOne() throws {
        let directory = TemporaryDirectory("atomic")
        defer { directory.remove() }
        let out = directory.path + "/study"
        // The new report, once, to know what it looks like and how long it takes.
        let started = Date()
        XCTAssertEqual(try runTVGeo(arguments("Run B", tasks: 4, out: out), in: directory.path).status, 0)
        let duration = Date().timeIntervalSince(started)
        let new = try snapshot(out)
        XCTAssertEqual(try runTVGeo(arguments("Run A", tasks: 3, out: out), in: directory.path).status, 0)
        let old = try snapshot(out)
        XCTAssertNotEqual(old.files, new.files)

        var outcomes: [String: Int] = [:]
        let steps = 14
        for step in 0..<steps {
            let process = Process()
            process.executableURL = Bundle.main.bundleURL.appendingPathComponent("tvgeo")
            process.arguments = arguments("Run B", tasks: 4, out: out)
            process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Spread the kills over the whole run, the last ones near its end.
            Thread.sleep(forTimeInterval: duration * Double(step) / Double(steps - 1) * 1.05)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let now = try snapshot(out)
            if now.files == old.files && now.tasks == 3 && now.title == "Run A" {
                outcomes["old", default: 0] += 1
            } else if now.files == new.files && now.tasks == 4 && now.title == "Run B" {
                outcomes["new", default: 0] += 1
                // Back to the old report for the next kill.
                XCTAssertEqual(try runTVGeo(arguments("Run A", tasks: 3, out: out), in: directory.path).status, 0)
            } else {
                XCTFail("kill after \(step)/\(steps - 1) of the run left a mixture: \(now.files.count) files, \(now.tasks) tasks, title \(now.title)")
            }
        }
        print("OutputAtomicityTests: after kill -9, old report \(outcomes["old"] ?? 0)×, new report \(outcomes["new"] ?? 0)×")
        XCTAssertGreaterThan(outcomes["old"] ?? 0, 0, "some kills landed before the swap")
        // A run that completes cleans up what the killed runs left beside the target.
        XCTAssertEqual(try runTVGeo(arguments("Run B", tasks: 4, out: out), in: directory.path).status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["study"])
        XCTAssertEqual(try snapshot(out).title, "Run B")
    }
}
