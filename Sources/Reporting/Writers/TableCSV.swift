import Foundation
import AnalysisCore
import Charts
import CSVText
import Study

/// CSV files of the report's tables, through the one CSV writer (`CSVWriter`: RFC 4180 quoting,
/// "\n" line ends, UTF-8, a leading formula character of a text field neutralised).
public enum TableCSV {
    /// A `TableData` as displayed: the corner and column headers, then one line per row. A cell that
    /// carries a number is written with its full precision; an undefined cell ("—") is empty.
    public static func text(_ table: TableData) -> String {
        var records = [([table.cornerHeader] + table.columnHeaders).map(CSVField.text)]
        for row in table.rows {
            let cells = row.cells.map { cell -> CSVField in
                if let value = cell.value, isPlainNumber(cell.text) { return .number(value) }
                return cell.text == "—" ? .empty : cellField(cell.text)
            }
            records.append([.text(row.header)] + cells)
        }
        return CSVWriter.text(records)
    }

    /// The correlations in long form: one line per module, metric and coefficient, every number
    /// at full precision; empty where undefined.
    public static func correlations(_ findings: StudyFindings, tasks: [String], modules: [String], metrics: [DistanceMetric]) -> String {
        var records = [(["module", "metric", "coefficient", "mean", "std", "ci95_low", "ci95_high", "pooled", "pooled_p", "pooled_n", "tasks_defined"]
                        + tasks.map { "rho_\($0)" }).map(CSVField.text)]
        func number(_ value: Double?) -> CSVField { value.map { $0.isFinite ? .number($0) : .empty } ?? .empty }
        for module in modules {
            for metric in metrics {
                for kind in CorrelationKind.allCases {
                    guard let s = findings.correlations[metric]?[module]?[kind] else { continue }
                    let fields: [CSVField] = [.text(module), .text(metric.id), .text(kind.rawValue), number(s.mean), number(s.std),
                                              number(s.ci95?.0), number(s.ci95?.1), number(s.pooled?.value), number(s.pooled?.p),
                                              s.pooled.map { .integer($0.n) } ?? .empty, .integer(s.perTask.compactMap { $0 }.count)]
                    records.append(fields + s.perTask.map { number($0?.value) })
                }
            }
        }
        return CSVWriter.text(records)
    }

    static func isPlainNumber(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isNumber || $0 == "." || $0 == "-" || $0 == "−" || $0 == "e" }
    }

    /// A displayed cell's text as a field: a number tvgeo formatted (`CSVField.numeral`) when it
    /// reads as one, otherwise text.
    static func cellField(_ text: String) -> CSVField {
        isPlainNumber(text) ? .numeral(text) : .text(text)
    }
}
