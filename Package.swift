// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tvgeo",
    products: [
        .executable(name: "tvgeo", targets: ["tvgeo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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
            pkgConfig: "cairo",
            providers: [.apt(["libcairo2-dev"])]
        ),
        // Error values and warnings shared by every layer; no I/O.
        .target(name: "Diagnostics"),
        // A strict JSON parser (untrusted headers and configs) and a stable writer.
        .target(name: "JSONText"),
        // Pure numerics: one (module, layer) block in, distance matrices out. No file access.
        .target(name: "AnalysisCore", dependencies: ["CLapack", "Diagnostics"]),
        // Files: safetensors mapping, PEFT adapter folders, tensor naming.
        .target(name: "TensorIO", dependencies: ["Diagnostics", "JSONText"]),
        // The study pipeline: adapters -> blocks -> core -> metrics document -> JSON/CSV writers.
        .target(name: "Study", dependencies: ["TensorIO", "AnalysisCore", "Diagnostics", "JSONText"]),
        // The thin command-line front end.
        .executableTarget(
            name: "tvgeo",
            dependencies: [
                "Study", "Diagnostics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "JSONTextTests", dependencies: ["JSONText"]),
        .testTarget(name: "AnalysisCoreTests", dependencies: ["AnalysisCore"]),
        .testTarget(name: "TensorIOTests", dependencies: ["TensorIO"]),
        .testTarget(name: "StudyTests", dependencies: ["Study", "TensorIO", "AnalysisCore", "JSONText"]),
        .testTarget(name: "CLITests", dependencies: ["Study", "JSONText"]),
    ]
)
