import Diagnostics
import FuzzScores
import FuzzSupport

let input = TempInput(suffix: ".csv")
let tasks = ["a", "b", "c"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    input.write(data, size)
    do {
        let table = try ScoreTable.read(input.path, tasks: tasks)
        _ = table.delta(tasks: tasks)
    } catch {
        // Expected for malformed CSV.
    }
    return 0
}
