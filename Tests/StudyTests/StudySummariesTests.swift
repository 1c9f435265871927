import AnalysisCore
import Diagnostics
@testable import Study
import TVGeoTestSupport
import XCTest

final class StudySummariesTests: XCTestCase {
    func adapter(_ task: String, rank: Int = 8, alpha: Double = 16, modules: [String] = ["query", "value"], layers: Int = 12) -> AdapterSummary {
        AdapterSummary(task: task, path: task, weightsPath: task, kind: "lora", baseModel: nil,
                       modules: modules.map { .init(name: $0, layers: Array(0..<layers), ranks: Array(repeating: rank, count: layers),
                                                    alphas: Array(repeating: alpha, count: layers), scalings: []) },
                       ignoredTensors: [])
    }

    func testConfigurationGroupsLargestFirstWithExceptions() {
        let adapters = (0..<12).map { adapter("task\($0)") } + [adapter("odd_r4", rank: 4), adapter("odd_q", modules: ["query"]),
                                                                 adapter("task12", rank: 4)]
        let groups = StudySummaries.configurationGroups(adapters)
        XCTAssertEqual(groups.map(\.tasks.count), [12, 2, 1])
        XCTAssertEqual(groups[0].sentence, "12 adapters: lora, query+value, r 8, α 16, 12 layers")
        XCTAssertEqual(groups[0].tasks.prefix(3), ["task0", "task1", "task2"])
        XCTAssertEqual(groups[0].tasks.last, "task11", "natural order")
        XCTAssertEqual(groups[1].tasks, ["odd_r4", "task12"])
        XCTAssertEqual(groups[2].sentence, "1 adapter: lora, query, r 8, α 16, 12 layers")
    }

    /// Distances 1, 1, 2 from task "b10": the tie between "b2" and "b9" goes to the natural order,
    /// whatever the task order; an asymmetric matrix is read through ½(D + Dᵀ); NaN is skipped.
    func testNeighboursTiesAndAsymmetry() {
        let tasks = ["b10", "b9", "b2", "b3"]
        var d = PairMatrix(count: 4, fill: 0)
        for (i, j, value) in [(0, 1, 1.0), (0, 2, 1.0), (0, 3, 2.0), (1, 2, 5.0), (1, 3, 4.0), (2, 3, 3.0)] {
            d[i, j] = value
            d[j, i] = value
        }
        let lists = StudySummaries.neighbours(d, symmetric: true, tasks: tasks, k: 2)
        XCTAssertEqual(lists[0].map(\.task), [2, 1], "b2 before b9")
        XCTAssertEqual(lists[3].map(\.task), [0, 2])
        XCTAssertEqual(lists[3].map(\.distance), [2, 3])
        var asymmetric = d
        asymmetric[0, 3] = 0
        asymmetric[3, 0] = 2  // mean 1: now ties with b2 and b9 and comes after them naturally
        asymmetric[1, 2] = .nan
        let read = StudySummaries.neighbours(asymmetric, symmetric: false, tasks: tasks, k: 5)
        XCTAssertEqual(read[0].map(\.task), [2, 3, 1])
        XCTAssertEqual(read[0].map(\.distance), [1, 1, 1])
        XCTAssertEqual(read[1].map(\.task), [0, 3], "the undefined distance to b2 is skipped")
    }

    func testNearDuplicatesUnderTheCosineThresholdInEveryModule() {
        let tasks = ["t10", "t2", "t3", "t1"]
        func matrix(_ pairs: [((Int, Int), Double)]) -> LayeredDistances {
            var m = PairMatrix(count: 4, fill: 0.5)
            for i in 0..<4 { m[i, i] = 0 }
            for ((i, j), v) in pairs { m[i, j] = v; m[j, i] = v }
            return LayeredDistances(layerIDs: [0], layers: [m], mean: m)
        }
        // (t10, t2) is close in both modules; (t3, t1) only in query; (t2, t1) is close where defined.
        let cosine = ["query": matrix([((0, 1), 9e-4), ((2, 3), 1e-5), ((1, 3), .nan)]),
                      "value": matrix([((0, 1), 1e-7), ((2, 3), 2e-3), ((1, 3), 5e-4)])]
        let l2 = ["query": matrix([((0, 1), 0.25)]), "value": matrix([])]
        let analysis = StudyAnalysis(tasks: tasks, modules: ["query", "value"], adapters: [], warnings: [],
                                     distances: [.cosine: cosine, .l2: l2], subspaceRanks: [:], norms: [:])
        let pairs = StudySummaries.nearDuplicates(analysis)
        XCTAssertEqual(pairs.map { [tasks[$0.a], tasks[$0.b]] }, [["t1", "t2"], ["t2", "t10"]])
        XCTAssertTrue(pairs[0].cosine[0].isNaN)
        XCTAssertEqual(pairs[1].cosine, [9e-4, 1e-7])
        XCTAssertEqual(pairs[1].l2, [0.25, 0.5])
    }

    /// Names in text order (a shell glob) are put in natural order; a chosen order is kept.
    func testStudyOrderOfTheArguments() {
        let globbed = ["lib/task0", "lib/task1", "lib/task10", "lib/task2"].map(AdapterArgument.init(parsing:))
        XCTAssertEqual(AdapterArgument.inStudyOrder(globbed).map(\.task), ["task0", "task1", "task2", "task10"])
        let chosen = ["x/cola", "x/mrpc", "x/emotion"].map(AdapterArgument.init(parsing:))
        XCTAssertEqual(AdapterArgument.inStudyOrder(chosen).map(\.task), ["cola", "mrpc", "emotion"])
    }

    func testAbbreviatedNames() {
        XCTAssertEqual(StudySummaries.abbreviated(["a", "b"]), "a, b")
        XCTAssertEqual(StudySummaries.abbreviated((0..<500).map { "task\($0)" }, limit: 5), "task0, task1, task2, …, task499 (500)")
    }
}
