import Dispatch
import Foundation

/// What one run of the built `tvgeo` printed and returned.
struct CommandOutcome {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the `tvgeo` built beside this test bundle in `workingDirectory`. Both pipes are drained
/// at once, so a long stderr cannot block the child while stdout is being read.
func runTVGeo(_ arguments: [String], in workingDirectory: String, environment: [String: String]? = nil) throws -> CommandOutcome {
    let process = Process()
    process.executableURL = Bundle.main.bundleURL.appendingPathComponent("tvgeo")
    process.arguments = arguments
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    nonisolated(unsafe) var stderr = Data()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { stderr = err.fileHandleForReading.readDataToEndOfFile() }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return CommandOutcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                          stderr: String(decoding: stderr, as: UTF8.self))
}
