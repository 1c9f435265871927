// swift-tools-version:6.0
import Foundation
import PackageDescription

// Cairo and Pango are compiled against but not linked: GraphicsLoader loads them with dlopen on
// first use, so commands that draw nothing start fast (StartupLibrariesTests checks the load list).
// Their header folders come from `pkg-config --cflags-only-I pangocairo`, run here, or from the
// TVGEO_GRAPHICS_CFLAGS environment variable when it is set (`-I` flags separated by spaces).
// Not `.systemLibrary(pkgConfig:)`: SwiftPM would also pass pkg-config's `--libs` to every link,
// and the Swift driver puts those `-l` flags ahead of any `-Xlinker --as-needed`, so Cairo, Pango,
// GObject, GLib and HarfBuzz would be loaded at start-up again (checked with readelf).
let graphicsHeaderFlags: [String] = {
    let environment = ProcessInfo.processInfo.environment
    if let flags = environment["TVGEO_GRAPHICS_CFLAGS"] {
        return flags.split(whereSeparator: \.isWhitespace).map(String.init)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["pkg-config", "--cflags-only-I", "pangocairo"]
    let output = Pipe()
    process.standardOutput = output
    var flags: [String] = []
    if (try? process.run()) != nil {
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 0 { flags = text.split(whereSeparator: \.isWhitespace).map(String.init) }
    }
    if flags.isEmpty {
        print("""
            tvgeo: `pkg-config --cflags-only-I pangocairo` gave no header folders: install pkg-config \
            and the Cairo and Pango headers (Debian: libcairo2-dev libpango1.0-dev; Homebrew: cairo pango; \
            Fedora: cairo-devel pango-devel), or set TVGEO_GRAPHICS_CFLAGS
            """)
    }
    return flags
}()
let graphicsHeaders: [SwiftSetting] = [.unsafeFlags(graphicsHeaderFlags.flatMap { ["-Xcc", $0] })]

let package = Package(
    name: "tvgeo",
    products: [
        .executable(name: "tvgeo", targets: ["tvgeo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // System-library shims. Only AnalysisCore (and, later, the renderer) import them.
        .systemLibrary(
            name: "CLapack",
            path: "Sources/CLapack",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"]), .brew(["openblas"]), .yum(["openblas-devel"])]
        ),
        // Headers only: their module maps link nothing from Cairo or Pango, and the header
        // folders are `graphicsHeaders` (see above).
        .systemLibrary(
            name: "CCairo",
            path: "Sources/CCairo",
            providers: [.apt(["libcairo2-dev"]), .brew(["cairo"]), .yum(["cairo-devel"])]
        ),
        .systemLibrary(
            name: "CPango",
            path: "Sources/CPango",
            providers: [.apt(["libpango1.0-dev"]), .brew(["pango"]), .yum(["pango-devel"])]
        ),
        // System calls the Swift Glibc/Darwin modules do not expose (an atomic exchange of two
        // paths, a write-out without a cache flush), with macOS equivalents or fallbacks.
        .systemLibrary(name: "CSystem", path: "Sources/CSystem"),
        // Error values and warnings shared by every layer; no I/O.
        .target(name: "Diagnostics"),
        // A strict JSON parser (untrusted headers and configs) and a stable writer.
        .target(name: "JSONText"),
        // The one CSV writer: RFC 4180 quoting, spreadsheet formulas neutralised in text fields.
        .target(name: "CSVText"),
        // Pure numerics: one (module, layer) block in, distance matrices out. No file access.
        .target(name: "AnalysisCore", dependencies: ["CLapack", "Diagnostics"],
                linkerSettings: [.linkedLibrary("lapacke", .when(platforms: [.linux]))]),
        // Files: safetensors mapping, PEFT adapter folders, tensor naming.
        .target(name: "TensorIO", dependencies: ["Diagnostics", "JSONText"]),
        // The study pipeline: adapters -> blocks -> core -> metrics document -> JSON/CSV writers.
        // Numbers only: no chart, no Cairo.
        .target(name: "Study", dependencies: ["TensorIO", "AnalysisCore", "Diagnostics", "JSONText", "CSVText", "CSystem"]),
        // Charts as values (scenes of marks) and one Cairo renderer for SVG, PDF and PNG. No file
        // reading: plain matrices, labels and points in.
        // Cairo and Pango loaded on first use (dlopen), so commands that draw nothing start fast.
        .target(name: "GraphicsLoader", dependencies: ["CCairo", "CPango"],
                cSettings: [.unsafeFlags(graphicsHeaderFlags)], linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        .target(name: "Charts", dependencies: ["CCairo", "CPango", "GraphicsLoader"], exclude: ["README.md"],
                swiftSettings: graphicsHeaders),
        // A study's figures as chart scenes (heatmaps, maps) and the one place that names figures;
        // used by `analyze --figures` and by the report.
        .target(name: "StudyFigures", dependencies: ["Study", "Charts", "AnalysisCore", "Diagnostics"]),
        // The report: one document value (sections, figures, tables) walked by writers for HTML
        // (Mustache templates), a paged PDF (the chart kit's renderer), LaTeX and CSV.
        .target(
            name: "Reporting",
            dependencies: ["Study", "StudyFigures", "Charts", "AnalysisCore", "TensorIO", "Diagnostics", "JSONText",
                           "CSVText", "ReportTemplates", .product(name: "Mustache", package: "swift-mustache")]
        ),
        // The default HTML templates (templates/html), shipped as a resource bundle beside the binary.
        .target(name: "ReportTemplates", path: "templates", exclude: ["README.md"], resources: [.copy("html")]),
        // The thin command-line front end.
        .executableTarget(
            name: "tvgeo",
            dependencies: [
                "Study", "StudyFigures", "Reporting", "Diagnostics", "Charts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: graphicsHeaders
        ),
        // Builders for test inputs (safetensors bytes, adapter folders, random factors).
        .target(name: "TVGeoTestSupport", dependencies: ["JSONText", "AnalysisCore"], path: "Tests/Support"),
        // Headless Chromium for the HTML end-to-end tests; decodes its screenshots with Cairo.
        .target(name: "TVGeoBrowserSupport", dependencies: ["CCairo", "GraphicsLoader"], path: "Tests/BrowserSupport",
                swiftSettings: graphicsHeaders),
        .testTarget(name: "ChartsTests", dependencies: ["Charts", "TVGeoTestSupport", "TVGeoBrowserSupport"], exclude: ["__Snapshots__"],
                    swiftSettings: graphicsHeaders),
        .testTarget(name: "JSONTextTests", dependencies: ["JSONText"]),
        .testTarget(name: "DiagnosticsTests", dependencies: ["Diagnostics"]),
        .testTarget(name: "CSVTextTests", dependencies: ["CSVText"]),
        .testTarget(name: "AnalysisCoreTests", dependencies: ["AnalysisCore", "TVGeoTestSupport"]),
        .testTarget(name: "TensorIOTests", dependencies: ["TensorIO", "TVGeoTestSupport"]),
        .testTarget(name: "StudyTests", dependencies: ["Study", "TensorIO", "AnalysisCore", "JSONText", "TVGeoTestSupport"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "Study", "Charts", "JSONText", "TVGeoTestSupport"], exclude: ["__Snapshots__"]),
        .testTarget(name: "CLITests", dependencies: ["tvgeo", "Study", "JSONText", "TVGeoTestSupport", "TVGeoBrowserSupport"]),
        // Every Swift file keeps to the line length stated in .swift-format.
        .testTarget(name: "SourceStyleTests", dependencies: ["TVGeoTestSupport"]),
    ]
)
