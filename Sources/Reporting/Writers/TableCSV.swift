import Foundation
import AnalysisCore
import Charts
import Study

/// CSV files of the report's tables (RFC 4180 quoting, "\n" line ends, UTF-8).
public enum TableCSV {
    /// A `TableData` as displayed: the corner and column headers, then one line per row. A cell that
    /// carries a number is written with its full precision; an undefined cell ("—") is empty.
    public static func text(_ table: TableData) -> String {
        var lines = [([table.cornerHeader] + table.columnHeaders).map(field).joined(separator: ",")]
        for row in table.rows {
            let cells = row.cells.map { cell -> String in
                if let value = cell.value, isPlainNumber(cell.text) { return "\(value)" }
                return cell.text == "—" ? "" : field(cell.text)
            }
            lines.append(([field(row.header)] + cells).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The correlations in long form: one line per module, metric and coefficient, every number
    /// at full precision; empty where undefined.
    public static func correlations(_ findings: StudyFindings, tasks: [String], modules: [String], metrics: [DistanceMetric]) -> String {
        var lines = [(["module", "metric", "coefficient", "mean", "std", "ci95_low", "ci95_high", "pooled", "pooled_p", "pooled_n", "tasks_defined"]
                      + tasks.map { "rho_\($0)" }).map(field).joined(separator: ",")]
        func number(_ value: Double?) -> String { value.map { $0.isFinite ? "\($0)" : "" } ?? "" }
        for module in modules {
            for metric in metrics {
                for kind in CorrelationKind.allCases {
                    guard let s = findings.correlations[metric]?[module]?[kind] else { continue }
                    let fields = [field(module), metric.id, kind.rawValue, number(s.mean), number(s.std),
                                  number(s.ci95?.0), number(s.ci95?.1), number(s.pooled?.value), number(s.pooled?.p),
                                  s.pooled.map { "\($0.n)" } ?? "", "\(s.perTask.compactMap { $0 }.count)"]
                    lines.append((fields + s.perTask.map { number($0?.value) }).joined(separator: ","))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func isPlainNumber(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isNumber || $0 == "." || $0 == "-" || $0 == "−" || $0 == "e" }
    }

    /// A CSV field, quoted when it holds a comma, quote or line break; a leading =, +, - or @ is
    /// prefixed with ' so that spreadsheets do not run it as a formula.
    static func field(_ text: String) -> String {
        var text = text
        if let first = text.first, "=+-@".contains(first), !isPlainNumber(text) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
