import Foundation
import XCTest

/// What a test does when an external tool it checks with (Chromium, pdfinfo, pdflatex, …) is
/// missing. Under CI (`CI=true`) the test fails: a check that cannot run is not a pass. Elsewhere
/// it is skipped, and the skip is appended to the file `$TVGEO_SKIP_LOG` names, so `make test`
/// can say how many tests were skipped and why (`swift test --parallel` prints nothing for a skip).
public enum RequiredTools {
    /// Whether this run is under CI (`CI` set to `true` or `1`).
    public static var underCI: Bool {
        ["true", "1"].contains(ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? "")
    }

    /// The error to throw from a test when `reason` (e.g. "pdfinfo (poppler-utils) is not
    /// installed") keeps its check from running: an `XCTSkip`, logged, or under CI a failure.
    public static func missing(_ reason: String, test: String = #function) -> Error {
        if underCI { return Missing(reason: reason) }
        log(reason, test: test)
        return XCTSkip(reason)
    }

    /// For Swift Testing's `.enabled(if:)`: true when the tool was found, and also under CI
    /// (where the test then runs and fails on the missing tool); a skip is logged.
    public static func enabled(found: Bool, _ reason: String, suite: String) -> Bool {
        if found || underCI { return true }
        log(reason, test: suite)
        return false
    }

    /// A required tool is missing under CI.
    public struct Missing: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { "required under CI (CI=true): \(reason)" }
    }

    static func log(_ reason: String, test: String) {
        guard let path = ProcessInfo.processInfo.environment["TVGEO_SKIP_LOG"], !path.isEmpty else { return }
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let line = Array("\(test): \(reason)\n".utf8)
        _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}
