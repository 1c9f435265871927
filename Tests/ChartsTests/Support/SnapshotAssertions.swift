import Charts
import Foundation
import XCTest

/// Snapshot files live in `Tests/ChartsTests/__Snapshots__`. Set `TVGEO_RECORD_SNAPSHOTS=1` to
/// (re)write them instead of comparing; a recorded or missing snapshot is written and the test fails.
enum Snapshots {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("__Snapshots__")

    static var isRecording: Bool {
        ProcessInfo.processInfo.environment["TVGEO_RECORD_SNAPSHOTS"] == "1"
    }

    /// Writes `data` as the new reference when recording or when none exists; returns the
    /// reference otherwise.
    static func reference(named name: String, current data: Data, file: StaticString, line: UInt) throws -> Data? {
        let url = directory.appendingPathComponent(name)
        let exists = FileManager.default.fileExists(atPath: url.path)
        if isRecording || !exists {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
            // Recording is never a pass: the new file has not been compared with anything.
            XCTFail(isRecording
                        ? "Recorded snapshot \(name) at \(url.path) (TVGEO_RECORD_SNAPSHOTS=1); check it, unset the variable and run again."
                        : "No snapshot \(name) existed; recorded it at \(url.path). Check it and run again.",
                    file: file, line: line)
            return nil
        }
        return try Data(contentsOf: url)
    }
}

/// Compares text (SVG) with its snapshot; on failure shows the first differing lines with context.
func assertTextSnapshot(_ text: String, named name: String, file: StaticString = #filePath, line: UInt = #line) throws {
    guard let reference = try Snapshots.reference(named: name, current: Data(text.utf8), file: file, line: line) else { return }
    let expected = String(decoding: reference, as: UTF8.self)
    guard expected != text else { return }
    XCTFail("Snapshot \(name) differs (TVGEO_RECORD_SNAPSHOTS=1 re-records):\n" + firstDifference(expected: expected, actual: text),
            file: file, line: line)
}

/// A short report of where two texts first differ: the line number, `context` equal lines before
/// it, then the differing lines of each side (up to `shown`, stopping at the next equal line).
func firstDifference(expected: String, actual: String, context: Int = 2, shown: Int = 3) -> String {
    let a = expected.components(separatedBy: "\n"), b = actual.components(separatedBy: "\n")
    var i = 0
    while i < min(a.count, b.count) && a[i] == b[i] { i += 1 }
    func clip(_ s: String) -> String { s.count > 160 ? String(s.prefix(160)) + "…" : s }
    var end = i
    while end < max(a.count, b.count) && end < i + shown && (end >= a.count || end >= b.count || a[end] != b[end]) { end += 1 }
    var report = "first difference at line \(i + 1) (expected \(a.count) lines, got \(b.count))\n"
    for k in max(0, i - context)..<i { report += "   \(k + 1)  \(clip(a[k]))\n" }
    for k in i..<min(end, a.count) { report += "-  \(k + 1)  \(clip(a[k]))\n" }
    for k in i..<min(end, b.count) { report += "+  \(k + 1)  \(clip(b[k]))\n" }
    return report
}

/// Compares PNG bytes with their snapshot pixel by pixel: at most `maximumFraction` of the pixels may
/// differ by more than `tolerance` (0...255) in any channel.
func assertPNGSnapshot(_ png: Data, named name: String, tolerance: Int = 24, maximumFraction: Double = 0.002,
                       file: StaticString = #filePath, line: UInt = #line) throws {
    guard let reference = try Snapshots.reference(named: name, current: png, file: file, line: line) else { return }
    let expected = try RasterImage(png: reference), actual = try RasterImage(png: png)
    guard let difference = actual.difference(from: expected, tolerance: tolerance) else {
        XCTFail("Snapshot \(name): size \(actual.width)×\(actual.height) differs from \(expected.width)×\(expected.height)",
                file: file, line: line)
        return
    }
    if difference.differingFraction > maximumFraction {
        let failed = FileManager.default.temporaryDirectory.appendingPathComponent("tvgeo-snapshot-failures")
        try? FileManager.default.createDirectory(at: failed, withIntermediateDirectories: true)
        try? png.write(to: failed.appendingPathComponent(name))
        XCTFail("Snapshot \(name): \(difference.differingPixels) of \(difference.totalPixels) pixels differ by more than "
                + "\(tolerance) (largest channel difference \(difference.maximumChannelDelta)); actual image written to "
                + "\(failed.appendingPathComponent(name).path)", file: file, line: line)
    }
}
