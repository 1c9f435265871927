import Foundation
import TVGeoTestSupport
import XCTest

/// `tvgeo` must start without Cairo, Pango and their dependencies (GraphicsLoader loads them with
/// dlopen when a figure is drawn): they are a third of the start-up of a short `analyze`. A Cairo
/// or Pango function called without being listed in GraphicsLoader.c links the library directly
/// again, and this test names it.
final class StartupLibrariesTests: XCTestCase {
    /// Both tests ask glibc's dynamic loader (LD_TRACE_LOADED_OBJECTS, LD_LIBRARY_PATH, sonames).
    override func setUpWithError() throws {
        #if !os(Linux)
        throw XCTSkip("the load list is checked with the Linux dynamic loader only")
        #endif
    }

    func testGraphicsLibrariesAreNotLoadedAtStartUp() throws {
        // The dynamic loader lists what it would load for the executable, then exits.
        let process = Process()
        process.executableURL = Bundle.main.bundleURL.appendingPathComponent("tvgeo")
        process.arguments = ["--version"]
        process.environment = ["LD_TRACE_LOADED_OBJECTS": "1"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let listing = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertTrue(listing.contains("libopenblas"), "unexpected loader listing:\n\(listing)")
        for library in ["libcairo", "libpango", "libglib", "libgobject", "libharfbuzz", "libfontconfig", "libX11"] {
            XCTAssertFalse(listing.contains(library), "\(library) is loaded at start-up:\n\(listing)")
        }
    }

    /// Without a loadable Cairo, a report (which always lays out text) and `analyze --figures`
    /// fail before any work (exit 70, one line naming the library, nothing written), and a plain
    /// `analyze` does not notice.
    func testAReportThatDrawsFailsCleanlyWithoutCairo() throws {
        let directory = TemporaryDirectory("no-cairo")
        // A file named like the library that is not a shared object: dlopen refuses it.
        let libraries = directory.path + "/lib"
        try FileManager.default.createDirectory(atPath: libraries, withIntermediateDirectories: true)
        try Data("not a library".utf8).write(to: URL(fileURLWithPath: libraries + "/libcairo.so.2"))
        let environment = ["LD_LIBRARY_PATH": libraries]
        let adapters = Array(ReportCommandTests.adapters.prefix(3))

        let drawing = try runTVGeo(["report"] + adapters + ["--out", directory.path + "/drawn"], in: directory.path, environment: environment)
        XCTAssertEqual(drawing.status, 70, drawing.stderr)
        XCTAssertTrue(drawing.stderr.contains("libcairo.so.2"), drawing.stderr)
        XCTAssertEqual(drawing.stderr.split(separator: "\n").count, 1, drawing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.path + "/drawn"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["lib"])

        let figures = try runTVGeo(["analyze"] + adapters + ["--figures", "svg", "--out", directory.path + "/figures"],
                                   in: directory.path, environment: environment)
        XCTAssertEqual(figures.status, 70, figures.stderr)

        let plain = try runTVGeo(["analyze"] + adapters + ["--quiet", "--out", directory.path + "/plain"],
                                 in: directory.path, environment: environment)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/plain/metrics.json"))
    }
}
