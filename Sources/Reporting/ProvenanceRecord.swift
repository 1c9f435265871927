import Diagnostics
import Foundation
import Study
import TensorIO

extension Provenance {
    /// Records the tool, the command line (shell-quoted), the current UTC time and the SHA-256 of
    /// every input file: each adapter's config and weights, the scores, the study config.
    public static func record(analysis: StudyAnalysis, scores: String?, config: String?, base: String? = nil,
                              arguments: [String] = CommandLine.arguments) throws(ToolError) -> Provenance {
        var files: [(role: String, path: String)] = []
        var seen: Set<String> = []
        func add(_ role: String, _ path: String) {
            guard FileKind.of(path) == .regular, seen.insert(path).inserted else { return }
            files.append((role, path))
        }
        if let config { add("study config", config) }
        if let base { add("base checkpoint", base) }
        for adapter in analysis.adapters {
            if FileKind.of(adapter.path) == .directory { add("\(adapter.task) config", adapter.path + "/adapter_config.json") }
            add(adapter.task, adapter.weightsPath)
        }
        if let scores { add("scores", scores) }
        // The files are hashed on every core at once.
        let digests = try ConcurrentJobs.run(files.map { file in { Result { () throws(ToolError) in try SHA256.hex(ofFile: file.path) } } })
        var inputs: [Input] = []
        for (file, digest) in zip(files, digests) {
            let bytes = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
            inputs.append(Input(role: file.role, path: file.path, bytes: bytes, sha256: digest))
        }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return Provenance(toolVersion: ToolInfo.version, commandLine: arguments.map(shellQuoted).joined(separator: " "),
                          date: formatter.string(from: Date()), inputs: inputs)
    }

    /// A word as a POSIX shell would need it: unchanged when it holds only safe characters.
    static func shellQuoted(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !word.isEmpty, word.allSatisfy(safe.contains) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
