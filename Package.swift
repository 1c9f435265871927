// swift-tools-version:6.0
import PackageDescription

// Where Debian's libcairo2-dev and libpango1.0-dev put their headers (`pkg-config --cflags
// pangocairo`). Given here rather than through pkg-config, which would also link the libraries
// at start-up: GraphicsLoader loads them on first use instead.
let graphicsHeaderFolders = [
    "/usr/include/cairo", "/usr/include/pango-1.0", "/usr/include/glib-2.0", "/usr/include/harfbuzz",
    "/usr/include/freetype2", "/usr/include/libpng16", "/usr/include/fribidi", "/usr/include/pixman-1",
    "/usr/lib/x86_64-linux-gnu/glib-2.0/include", "/usr/lib/aarch64-linux-gnu/glib-2.0/include",
]
let graphicsHeaders: [SwiftSetting] = [.unsafeFlags(graphicsHeaderFolders.flatMap { ["-Xcc", "-I" + $0] })]

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
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .systemLibrary(
            name: "CCairo",
            path: "Sources/CCairo",
            providers: [.apt(["libcairo2-dev"])]
        ),
        .systemLibrary(
            name: "CPango",
            path: "Sources/CPango",
            providers: [.apt(["libpango1.0-dev"])]
        ),
        // Linux calls Glibc does not expose (an atomic exchange of two paths).
        .systemLibrary(name: "CSystem", path: "Sources/CSystem"),
        // Error values and warnings shared by every layer; no I/O.
        .target(name: "Diagnostics"),
        // A strict JSON parser (untrusted headers and configs) and a stable writer.
        .target(name: "JSONText"),
        // The one CSV writer: RFC 4180 quoting, spreadsheet formulas neutralised in text fields.
        .target(name: "CSVText"),
        // Pure numerics: one (module, layer) block in, distance matrices out. No file access.
        .target(name: "AnalysisCore", dependencies: ["CLapack", "Diagnostics"]),
        // Files: safetensors mapping, PEFT adapter folders, tensor naming.
        .target(name: "TensorIO", dependencies: ["Diagnostics", "JSONText"]),
        // The study pipeline: adapters -> blocks -> core -> metrics document -> JSON/CSV writers.
        .target(name: "Study", dependencies: ["TensorIO", "AnalysisCore", "Diagnostics", "JSONText", "CSVText", "Charts", "CSystem"]),
        // Charts as values (scenes of marks) and one Cairo renderer for SVG, PDF and PNG. No file
        // reading: plain matrices, labels and points in.
        // Cairo and Pango loaded on first use (dlopen), so commands that draw nothing start fast.
        .target(name: "GraphicsLoader", dependencies: ["CCairo", "CPango"],
                cSettings: [.unsafeFlags(graphicsHeaderFolders.map { "-I" + $0 })], linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "Charts", dependencies: ["CCairo", "CPango", "GraphicsLoader"], exclude: ["README.md"],
                swiftSettings: graphicsHeaders),
        // The report: one document value (sections, figures, tables) walked by writers for HTML
        // (Mustache templates), a paged PDF (the chart kit's renderer), LaTeX and CSV.
        .target(
            name: "Reporting",
            dependencies: ["Study", "Charts", "AnalysisCore", "TensorIO", "Diagnostics", "JSONText", "CSVText", "ReportTemplates",
                           .product(name: "Mustache", package: "swift-mustache")]
        ),
        // The default HTML templates (templates/html), shipped as a resource bundle beside the binary.
        .target(name: "ReportTemplates", path: "templates", exclude: ["README.md"], resources: [.copy("html")]),
        // The thin command-line front end.
        .executableTarget(
            name: "tvgeo",
            dependencies: [
                "Study", "Reporting", "Diagnostics", "Charts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: graphicsHeaders
        ),
        // Builders for test inputs (safetensors bytes, adapter folders, random factors).
        .target(name: "TVGeoTestSupport", dependencies: ["JSONText", "AnalysisCore", "CCairo", "GraphicsLoader"], path: "Tests/Support",
                swiftSettings: graphicsHeaders),
        .testTarget(name: "ChartsTests", dependencies: ["Charts"], exclude: ["__Snapshots__"], swiftSettings: graphicsHeaders),
        .testTarget(name: "JSONTextTests", dependencies: ["JSONText"]),
        .testTarget(name: "CSVTextTests", dependencies: ["CSVText"]),
        .testTarget(name: "AnalysisCoreTests", dependencies: ["AnalysisCore", "TVGeoTestSupport"]),
        .testTarget(name: "TensorIOTests", dependencies: ["TensorIO", "TVGeoTestSupport"]),
        .testTarget(name: "StudyTests", dependencies: ["Study", "TensorIO", "AnalysisCore", "JSONText", "TVGeoTestSupport"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "Study", "Charts", "JSONText", "TVGeoTestSupport"], exclude: ["__Snapshots__"]),
        .testTarget(name: "CLITests", dependencies: ["tvgeo", "Study", "JSONText", "TVGeoTestSupport"]),
    ]
)
