import Foundation
import TVGeoTestSupport
import XCTest

/// Runs command-line tools (pdfinfo, pdftoppm) from tests, skipping when they are not installed.
enum ExternalTool {
    /// The full path of `name` on PATH (/usr/local/bin:/usr/bin:/bin when PATH is unset), nil if absent.
    static func path(of name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
        for directory in directories {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The tool's path; when it is missing, a skip naming the Debian package that provides it
    /// (a failure under CI: see `RequiredTools`).
    static func require(_ name: String, package: String = "poppler-utils") throws -> String {
        guard let found = path(of: name) else {
            throw RequiredTools.missing("\(name) is not installed (Debian package \(package)); skipping the check that needs it")
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
