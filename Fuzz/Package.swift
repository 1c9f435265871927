// swift-tools-version:6.0
// libFuzzer targets for tvgeo's parsers. A separate package so the sanitizer flags never reach
// the main build. The root package exports no library products, so the modules under test are
// compiled here from symlinks (Sources/<Module> -> ../../Sources/<Module>); see README.md.
import PackageDescription

let package = Package(
    name: "tvgeo-fuzz",
    targets: [
        // tvgeo's own modules, compiled from symlinks to the root sources (unchanged).
        .systemLibrary(name: "CLapack", path: "Sources/CLapack", pkgConfig: "openblas"),
        .target(name: "Diagnostics", path: "Sources/Diagnostics"),
        .target(name: "JSONText", path: "Sources/JSONText"),
        .target(name: "TensorIO", dependencies: ["Diagnostics", "JSONText"], path: "Sources/TensorIO"),
        .target(name: "AnalysisCore", dependencies: ["CLapack", "Diagnostics"], path: "Sources/AnalysisCore",
                linkerSettings: [.linkedLibrary("lapacke", .when(platforms: [.linux]))]),
        // Only Study/Scores.swift (ScoreTable): the rest of Study needs Charts, Cairo and Pango.
        .target(name: "FuzzScores", dependencies: ["AnalysisCore", "Diagnostics", "TensorIO"], path: "Sources/FuzzScores"),
        // Shared helpers of the harnesses (temporary file per process).
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
        // The harnesses: each defines LLVMFuzzerTestOneInput; libFuzzer provides main.
        .executableTarget(name: "FuzzSafetensors", dependencies: ["TensorIO", "Diagnostics", "FuzzSupport"]),
        .executableTarget(name: "FuzzAdapterConfig", dependencies: ["TensorIO", "Diagnostics", "FuzzSupport"]),
        .executableTarget(name: "FuzzJSON", dependencies: ["JSONText", "FuzzSupport"]),
        .executableTarget(name: "FuzzTorchBin", dependencies: ["TensorIO", "Diagnostics", "FuzzSupport"]),
        .executableTarget(name: "FuzzScoresCSV", dependencies: ["FuzzScores", "Diagnostics", "FuzzSupport"]),
    ]
)
