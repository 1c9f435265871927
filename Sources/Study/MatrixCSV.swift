import AnalysisCore
import CSVText

/// A CSV table of one N×N matrix (`distances-<metric>-<module>.csv`, the report's distance tables):
/// a header row `task,<task1>,…`, then one row per task. Task names are text fields (quoted when
/// needed, a leading formula character neutralised; `CSVField.text`); values are numbers at full
/// precision, undefined values empty.
public enum MatrixCSV {
    public static func text(tasks: [String], matrix: PairMatrix) -> String {
        var records = [[CSVField.text("task")] + tasks.map(CSVField.text)]
        for (index, row) in matrix.rows.enumerated() {
            records.append([.text(tasks[index])] + row.map { $0.isNaN ? .empty : .number($0) })
        }
        return CSVWriter.text(records)
    }
}
