import Foundation

/// Where the default report templates are. Looked up without `Bundle.module`, whose accessor
/// stops the process when the bundle is missing: first the resource bundle beside the running
/// binary (what an install copies), then this source tree's `templates/html` (a build run in
/// place, tests). nil when neither exists; the caller turns that into an error message.
public enum ReportTemplates {
    public static var defaultDirectory: URL? {
        let bundleName = "tvgeo_ReportTemplates.resources"
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent(bundleName).appendingPathComponent("html"),
            executable.appendingPathComponent(bundleName).appendingPathComponent("html"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("html"),
        ]
        return candidates.first { url in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }
}
