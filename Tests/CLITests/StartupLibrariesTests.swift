import Foundation
import XCTest

/// `tvgeo` must start without Cairo, Pango and their dependencies (GraphicsLoader loads them with
/// dlopen when a figure is drawn): they are a third of the start-up of a short `analyze`. A Cairo
/// or Pango function called without being listed in GraphicsLoader.c links the library directly
/// again, and this test names it.
final class StartupLibrariesTests: XCTestCase {
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
}
