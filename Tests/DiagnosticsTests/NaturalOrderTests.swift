import Diagnostics
import XCTest

final class NaturalOrderTests: XCTestCase {
    func testDigitRunsCompareByValue() {
        XCTAssertEqual(NaturalOrder.sorted(["task10", "task2", "task1", "task100", "task_11", "task_100", "task9b", "task9a"]),
                       ["task1", "task2", "task9a", "task9b", "task10", "task100", "task_11", "task_100"])
        XCTAssertEqual(NaturalOrder.sorted(["lib/task00", "lib/task100", "lib/task10", "lib/task09"]),
                       ["lib/task00", "lib/task09", "lib/task10", "lib/task100"])
        // A digit run longer than any integer still compares by value.
        XCTAssertTrue(NaturalOrder.areInIncreasingOrder("x99999999999999999999999", "x100000000000000000000000"))
    }

    func testTotalOrderWhenValuesAreEqual() {
        XCTAssertEqual(NaturalOrder.compare("task1", "task01"), -1, "fewer leading zeros first")
        XCTAssertEqual(NaturalOrder.compare("task01", "task1"), 1)
        XCTAssertEqual(NaturalOrder.compare("a", "a"), 0)
        XCTAssertEqual(NaturalOrder.compare("a", "ab"), -1)
        XCTAssertEqual(NaturalOrder.compare("a2", "a"), 1)
        let names = ["b", "a01", "a1", "A1", "a001", "a", ""]
        XCTAssertEqual(NaturalOrder.sorted(names), NaturalOrder.sorted(names.reversed()), "the order never depends on the input's")
    }

    func testTextSortedDetection() {
        XCTAssertTrue(NaturalOrder.isTextSorted(["task0", "task1", "task10", "task100", "task11", "task2"]))
        XCTAssertTrue(NaturalOrder.isTextSorted(["Alpha", "beta", "Gamma"]), "case-insensitive, as most locales sort")
        XCTAssertFalse(NaturalOrder.isTextSorted(["cola", "mrpc", "rte", "sst2", "emotion"]))
        XCTAssertTrue(NaturalOrder.isTextSorted(["one"]))
    }
}
