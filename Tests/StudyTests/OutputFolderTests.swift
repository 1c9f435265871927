import Diagnostics
import Foundation
@testable import Study
import TVGeoTestSupport
import XCTest

/// A rerun into an earlier output replaces only the files tvgeo wrote there: a user's files are
/// kept, and a file that would be replaced although tvgeo did not write it (or it was changed
/// since) stops the run, unless forced.
final class OutputFolderTests: XCTestCase {
    var directory: TemporaryDirectory!
    var target: String { directory.path + "/study" }

    override func setUp() { directory = TemporaryDirectory("output-folder") }
    override func tearDown() { directory.remove() }

    func read(_ path: String) throws -> String { try String(contentsOfFile: target + "/" + path, encoding: .utf8) }
    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: target + "/" + path) }

    func testARerunKeepsEveryFileTvgeoDidNotWrite() throws {
        try OutputFolder.write([OutputFile("metrics.json", text: "{}\n"), OutputFile("sub/x.csv", text: "a\n")], to: target)
        directory.write("study/NOTES.md", text: "my notes\n")
        directory.write("study/sub/mine.txt", text: "mine\n")
        directory.write("study/mine/deep/x.txt", text: "deep\n")
        try FileManager.default.createDirectory(atPath: target + "/drafts", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: target + "/latest", withDestinationPath: "NOTES.md")

        try OutputFolder.write([OutputFile("metrics.json", text: "{\"v\": 2}\n")], to: target)
        XCTAssertEqual(try read("metrics.json"), "{\"v\": 2}\n")
        XCTAssertFalse(exists("sub/x.csv"), "tvgeo's own earlier file is replaced (here: gone)")
        XCTAssertEqual(try read("NOTES.md"), "my notes\n")
        XCTAssertEqual(try read("sub/mine.txt"), "mine\n")
        XCTAssertEqual(try read("mine/deep/x.txt"), "deep\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target + "/drafts"), [])
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: target + "/latest"), "NOTES.md")
        let record = try XCTUnwrap(OutputRecord.read(folder: target))
        XCTAssertEqual(Set(record.files.keys), ["metrics.json"], "the marker lists tvgeo's files only")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["study"], "no staging folder left")

        // And again: the user's files survive every rerun.
        try OutputFolder.write([OutputFile("metrics.json", text: "{\"v\": 3}\n")], to: target)
        XCTAssertEqual(try read("NOTES.md"), "my notes\n")
    }

    func testAChangedOutputStopsTheRunUnlessForced() throws {
        try OutputFolder.write([OutputFile("metrics.json", text: "{}\n"), OutputFile("figures/a.svg", text: "<svg/>\n")], to: target)
        directory.write("study/NOTES.md", text: "notes\n")
        directory.write("study/figures/a.svg", text: "<svg>edited by hand</svg>\n")
        XCTAssertThrowsError(try OutputFolder.write([OutputFile("metrics.json", text: "{\"v\": 2}\n"),
                                                     OutputFile("figures/a.svg", text: "<svg/>\n")], to: target)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 73)
            let message = (error as? ToolError)?.message ?? ""
            XCTAssertTrue(message.contains(self.target + "/figures/a.svg"), message)
            XCTAssertTrue(message.contains("changed since tvgeo wrote it") && message.contains("--force"), message)
        }
        XCTAssertEqual(try read("metrics.json"), "{}\n", "nothing was replaced")
        XCTAssertEqual(try read("figures/a.svg"), "<svg>edited by hand</svg>\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["study"], "no staging folder left")

        // An edited file the new run does not write is kept, as any user file.
        try OutputFolder.write([OutputFile("metrics.json", text: "{\"v\": 2}\n")], to: target)
        XCTAssertEqual(try read("figures/a.svg"), "<svg>edited by hand</svg>\n")

        // Forced, the new file replaces it; the notes stay.
        try OutputFolder.write([OutputFile("figures/a.svg", text: "<svg/>\n")], to: target, force: true)
        XCTAssertEqual(try read("figures/a.svg"), "<svg/>\n")
        XCTAssertEqual(try read("NOTES.md"), "notes\n")
    }

    func testAUserFileWithAnOutputNameStopsTheRun() throws {
        try OutputFolder.write([OutputFile("metrics.json", text: "{}\n")], to: target)
        directory.write("study/distances-l2-value.csv", text: "mine\n")
        XCTAssertThrowsError(try OutputFolder.write([OutputFile("metrics.json", text: "{}\n"),
                                                     OutputFile("distances-l2-value.csv", text: "task\n")], to: target)) { error in
            XCTAssertEqual((error as? ToolError)?.exitCode, 73)
            XCTAssertTrue("\(error)".contains("distances-l2-value.csv: tvgeo did not write this file"), "\(error)")
        }
        XCTAssertEqual(try read("distances-l2-value.csv"), "mine\n")
    }

    /// A folder written by tvgeo 0.1 has a marker without a list: tvgeo's file names are replaced,
    /// anything else is kept.
    func testAnOutputOfTvgeo01KeepsWhatTvgeoDoesNotName() throws {
        directory.write("study/.tvgeo-output", text: "written by tvgeo 0.1.0; tvgeo replaces this folder when it writes here again\n")
        directory.write("study/metrics.json", text: "{}")
        directory.write("study/figures/heatmap-l2-query.svg", text: "<svg/>")
        directory.write("study/NOTES.md", text: "notes\n")
        try OutputFolder.write([OutputFile("metrics.json", text: "{\"v\": 2}\n")], to: target)
        XCTAssertEqual(try read("metrics.json"), "{\"v\": 2}\n")
        XCTAssertFalse(exists("figures/heatmap-l2-query.svg"))
        XCTAssertEqual(try read("NOTES.md"), "notes\n")
    }
}
