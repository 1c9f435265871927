import Diagnostics
import Foundation
import Study
import TensorIO

extension Provenance {
    /// Records the tool, the command line (shell-quoted), the current UTC time and the SHA-256 of
    /// every input file: each adapter's config and weights, the scores, the study config.
    public static func record(analysis: StudyAnalysis, scores: String?, config: String?, base: String? = nil,
                              arguments: [String] = CommandLine.arguments) throws(ToolError) -> Provenance {
        var inputs: [Input] = []
        var seen: Set<String> = []
        func add(_ role: String, _ path: String) throws(ToolError) {
            guard FileKind.of(path) == .regular, seen.insert(path).inserted else { return }
            let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            inputs.append(Input(role: role, path: path, bytes: bytes, sha256: try SHA256.hex(ofFile: path)))
        }
        if let config { try add("study config", config) }
        if let base { try add("base checkpoint", base) }
        for adapter in analysis.adapters {
            if FileKind.of(adapter.path) == .directory { try add("\(adapter.task) config", adapter.path + "/adapter_config.json") }
            try add(adapter.task, adapter.weightsPath)
        }
        if let scores { try add("scores", scores) }
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
