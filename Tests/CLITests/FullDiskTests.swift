import Foundation
import TVGeoTestSupport
import XCTest

/// A disk that fills up part-way through writing (a small tmpfs): every writing command exits 73
/// naming the file, leaves the previous output as it was, and leaves nothing staged behind.
final class FullDiskTests: XCTestCase {
    var directory: TemporaryDirectory!
    var disk: String { directory.path + "/disk" }
    let example = repositoryRoot + "/examples/minilm-glue8/adapters"

    override func setUpWithError() throws {
        directory = TemporaryDirectory("full-disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        // 1.5 MB: room for a small first output, not for the second.
        let mount = runTool("mount", ["-t", "tmpfs", "-o", "size=1536k", "tmpfs", disk])
        guard let mount, mount.status == 0 else {
            throw RequiredTools.missing("cannot mount a small tmpfs (needs root and mount): \(mount?.output ?? "no mount on PATH")")
        }
    }

    override func tearDown() {
        _ = runTool("umount", [disk])
        directory.remove()
    }

    /// Every file under `folder` (relative path → bytes).
    func snapshot(_ folder: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: folder))
        for case let path as String in walker {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isFolder), !isFolder.boolValue {
                files[path] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + path))
            }
        }
        return files
    }

    /// Runs `first` (which fits), then `second` (which does not) into the same `out`, and checks
    /// the second run's failure.
    /// `fillKilobytes` of the disk are taken between the runs, for a second output that would
    /// otherwise fit (figures with SVG text are small).
    func assertFullDiskKeepsTheFirstOutput(_ first: [String], _ second: [String], out: String, fillKilobytes: Int = 0,
                                          file: StaticString = #filePath, line: UInt = #line) throws {
        let written = try runTVGeo(first, in: directory.path)
        XCTAssertEqual(written.status, 0, written.stderr, file: file, line: line)
        if fillKilobytes > 0 {
            XCTAssertEqual(runTool("dd", ["if=/dev/zero", "of=" + disk + "/filler", "bs=1024", "count=\(fillKilobytes)"])?.status, 0,
                           file: file, line: line)
        }
        let before = try snapshot(out)
        XCTAssertFalse(before.isEmpty, file: file, line: line)
        let failed = try runTVGeo(second, in: directory.path)
        XCTAssertEqual(failed.status, 73, failed.stderr, file: file, line: line)
        XCTAssertTrue(failed.stderr.hasPrefix("tvgeo: error: cannot write \(out)"), failed.stderr, file: file, line: line)
        XCTAssertTrue(failed.stderr.contains("No space left on device"), failed.stderr, file: file, line: line)
        XCTAssertEqual(try snapshot(out), before, "the previous output is intact", file: file, line: line)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: disk).filter { $0.contains(".tvgeo-") }
        XCTAssertEqual(leftovers, [], "nothing staged is left", file: file, line: line)
    }

    func testAnalyze() throws {
        let out = disk + "/analysis"
        try assertFullDiskKeepsTheFirstOutput(["analyze", "-q", example + "/cola", example + "/mrpc", "--out", out],
                                              ["analyze", "-q", example + "/cola", example + "/mrpc", "--figures", "svg,pdf,png",
                                               "--out", out], out: out, fillKilobytes: 1000)
    }

    func testReport() throws {
        let out = disk + "/report"
        try assertFullDiskKeepsTheFirstOutput(["report", "-q", example + "/cola", example + "/mrpc", "--formats", "json", "--out", out],
                                              ["report", "-q", example + "/cola", example + "/mrpc", example + "/rte",
                                               "--out", out], out: out)
    }

    func testMergeAllPairs() throws {
        let out = disk + "/merges"
        try assertFullDiskKeepsTheFirstOutput(["merge", "-q", "--all-pairs", example + "/cola", example + "/mrpc", "--out", out],
                                              ["merge", "-q", "--all-pairs", example + "/cola", example + "/mrpc", example + "/rte",
                                               "--out", out], out: out)
    }

    /// --force into a folder tvgeo did not write: every new file is written before the first one
    /// replaces an old one, so a full disk changes nothing.
    func testForceIntoAForeignFolder() throws {
        let out = disk + "/mine"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Data("notes\n".utf8).write(to: URL(fileURLWithPath: out + "/notes.txt"))
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: out + "/metrics.json"))
        let before = try snapshot(out)
        // About 500 KB stay free: less than the figures need.
        XCTAssertEqual(runTool("dd", ["if=/dev/zero", "of=" + disk + "/filler", "bs=1024", "count=1000"])?.status, 0)
        let failed = try runTVGeo(["analyze", "-q", example + "/cola", example + "/mrpc", "--figures", "svg,pdf,png", "--force",
                                   "--out", out], in: directory.path)
        XCTAssertEqual(failed.status, 73, failed.stderr)
        XCTAssertTrue(failed.stderr.contains("No space left on device"), failed.stderr)
        XCTAssertEqual(try snapshot(out), before, "no file was replaced")
        XCTAssertFalse(try snapshot(out).keys.contains { $0.contains(".tvgeo-tmp-") })
    }

    func testConvert() throws {
        let filler = disk + "/filler"
        // Leave about 100 KB: the converted adapter (about 300 KB) cannot fit.
        XCTAssertEqual(runTool("dd", ["if=/dev/zero", "of=" + filler, "bs=1024", "count=1430"])?.status, 0)
        let bin = repositoryRoot + "/Tests/Fixtures/real/minilm-glue8-bin/sst2/adapter_model.bin"
        let failed = try runTVGeo(["convert", bin, disk + "/sst2.safetensors"], in: directory.path)
        XCTAssertEqual(failed.status, 73, failed.stderr)
        XCTAssertTrue(failed.stderr.contains(disk + "/sst2.safetensors"), failed.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk), ["filler"], "no partial or temporary file")
    }
}
