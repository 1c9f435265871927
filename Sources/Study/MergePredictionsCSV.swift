import AnalysisCore
import CSVText

/// `merge-predictions.csv`: host, partner, predicted relative loss, observed relative loss (empty
/// where the merge has no score or the host's own score is 0).
public enum MergePredictionsCSV {
    public static func text(_ findings: StudyFindings, tasks: [String]) -> String {
        var records = [["host", "partner", "predicted_relative_loss", "observed_relative_loss"].map(CSVField.text)]
        for row in findings.prediction?.mergePredictions ?? [] {
            records.append([.text(tasks[row.host]), .text(tasks[row.partner]), .number(row.predicted), row.observed.map(CSVField.number) ?? .empty])
        }
        return CSVWriter.text(records)
    }
}
