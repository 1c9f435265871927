import Dispatch
import Foundation

/// What one run of the built `tvgeo` printed and returned.
struct CommandOutcome {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `tvgeo` as the user `nobody` (uid and gid 65534, no supplementary groups) through
/// setpriv, for permission checks that root would pass, in `workspace`. The binary and its
/// resource bundle are copied into `bin`, a folder nobody can reach (a CI clone may sit in a
/// private folder); the two folders are opened to others.
func runTVGeoAsNobody(_ arguments: [String], workspace: String, bin: String) throws -> CommandOutcome {
    let manager = FileManager.default
    let built = Bundle.main.bundleURL
    if !manager.fileExists(atPath: bin + "/tvgeo") {
        try manager.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for name in try manager.contentsOfDirectory(atPath: built.path) where name == "tvgeo" || name.hasSuffix(".resources") {
            try manager.copyItem(atPath: built.path + "/" + name, toPath: bin + "/" + name)
        }
    }
    for path in [workspace, bin] { chmod(path, 0o755) }
    return try runTVGeo(["--reuid=65534", "--regid=65534", "--clear-groups", bin + "/tvgeo"] + arguments, in: workspace,
                        executable: "/usr/bin/setpriv")
}

/// Runs the `tvgeo` built beside this test bundle in `workingDirectory`. Both pipes are drained
/// at once, so a long stderr cannot block the child while stdout is being read.
func runTVGeo(_ arguments: [String], in workingDirectory: String, environment: [String: String]? = nil,
              executable: String? = nil) throws -> CommandOutcome {
    let process = Process()
    process.executableURL = executable.map(URL.init(fileURLWithPath:)) ?? Bundle.main.bundleURL.appendingPathComponent("tvgeo")
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
