import Foundation
import XCTest

/// Runs command-line tools (pdfinfo, pdftoppm) from tests, skipping when they are not installed.
enum ExternalTool {
    /// The full path of `name` on PATH (or in /usr/bin), nil if absent.
    static func path(of name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        for directory in directories {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The tool's path, or an `XCTSkip` naming the Debian package that provides it.
    static func require(_ name: String, package: String = "poppler-utils") throws -> String {
        guard let found = path(of: name) else {
            throw XCTSkip("\(name) is not installed (Debian package \(package)); skipping the check that needs it")
        }
        return found
    }

    /// Runs the tool and returns (exit status, standard output, standard error).
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

/// A fresh temporary directory, removed by the caller (or left in /tmp).
func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tvgeo-charts-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
