import Foundation
import Study
import TVGeoTestSupport
import XCTest

/// `tvgeo analyze --base` reports progress as the LoRA study does: once per finished block,
/// (done, total), through the same `StudyProgress` the CLI's progress line draws.
final class FullFineTuneProgressTests: XCTestCase {
    final class Calls: @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [(Int, Int)] = []
        func add(_ done: Int, _ total: Int) { lock.lock(); seen.append((done, total)); lock.unlock() }
        var all: [(Int, Int)] { lock.lock(); defer { lock.unlock() }; return seen }
    }

    func testEveryBlockReportsProgress() throws {
        let data = repositoryRoot + "/Tests/Fixtures/real/minilm-fullft"
        let calls = Calls()
        let tasks = ["sst2", "irony"]
        _ = try FullFineTuneStudy.analyze(base: data + "/base.safetensors",
                                          checkpoints: tasks.map { AdapterArgument(task: $0, path: data + "/" + $0) },
                                          modules: nil, subspaceRank: 8, progress: { calls.add($0, $1) })
        let seen = calls.all
        XCTAssertEqual(seen.count, 12, "6 layers × query, value")
        XCTAssertTrue(seen.allSatisfy { $0.1 == 12 })
        XCTAssertEqual(seen.map(\.0).sorted(), Array(1...12))
    }
}
