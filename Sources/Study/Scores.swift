import AnalysisCore
import Diagnostics
import TensorIO

/// One row of a scores file: `model` evaluated on `task`.
public struct ScoreRow: Sendable, Equatable {
    public var model: String
    public var task: String
    public var score: Double
    public var metric: String?
    public var line: Int
}

/// The user's evaluation scores: single adapters on their task and Comb merges on each host.
public struct ScoreTable: Sendable {
    public var rows: [ScoreRow]
    public var path: String

    /// Reads a CSV with columns `model,task,score` (and optionally `metric`; other columns are
    /// ignored). Accepts a UTF-8 BOM, CRLF line ends and quoted fields. `model` is a task name or
    /// `i+j` (a Comb merge, either order); `task` is the task it was evaluated on, which must be
    /// the model itself or one of the two merged tasks. Errors name the line: a missing column,
    /// a non-numeric score, an unknown task, a duplicate row.
    public static func read(_ path: String, tasks: [String]) throws(ToolError) -> ScoreTable {
        let bytes = try readWholeFile(path)
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidData(file: path, location: nil, problem: "not UTF-8 text")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let records = try CSVRecords.parse(text, file: path)
        guard let header = records.first else {
            throw .invalidData(file: path, location: nil, problem: "empty file; expected a header model,task,score")
        }
        let names = header.fields.map { $0.trimmingCharacters(in: " \t") }
        func column(_ name: String) -> Int? { names.firstIndex(of: name) }
        guard let modelColumn = column("model"), let taskColumn = column("task"), let scoreColumn = column("score") else {
            let missing = ["model", "task", "score"].filter { column($0) == nil }
            throw .invalidData(file: path, location: "line \(header.line)",
                               problem: "missing column\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) "
                                        + "(header: \(names.joined(separator: ",")))")
        }
        let metricColumn = column("metric")
        let known = Set(tasks)
        var rows: [ScoreRow] = []
        var seen: [String: Int] = [:]
        for record in records.dropFirst() {
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: " \t").isEmpty }) { continue }
            let location = "line \(record.line)"
            guard record.fields.count == names.count else {
                throw .invalidData(file: path, location: location, problem: "\(record.fields.count) fields, the header has \(names.count)")
            }
            let model = record.fields[modelColumn].trimmingCharacters(in: " \t")
            let task = record.fields[taskColumn].trimmingCharacters(in: " \t")
            let scoreText = record.fields[scoreColumn].trimmingCharacters(in: " \t")
            guard let score = Double(scoreText), score.isFinite else {
                throw .invalidData(file: path, location: location, problem: "score \"\(scoreText)\" is not a finite number")
            }
            guard known.contains(task) else {
                throw .invalidData(file: path, location: location, problem: "unknown task \"\(task)\" (tasks: \(tasks.joined(separator: ", ")))")
            }
            let canonical: String
            if known.contains(model) {
                guard model == task else {
                    throw .invalidData(file: path, location: location,
                                       problem: "model \(model) is evaluated on \(task); a single adapter's score must be on its own task")
                }
                canonical = model
            } else if let (first, second) = Self.splitMerge(model, known: known) {
                guard task == first || task == second else {
                    throw .invalidData(file: path, location: location,
                                       problem: "merge \(model) is evaluated on \(task), which is neither of its tasks")
                }
                // One key per host and partner, whatever the order written.
                canonical = task + "+" + (task == first ? second : first)
            } else {
                throw .invalidData(file: path, location: location,
                                   problem: "unknown model \"\(model)\": expected a task name or task+task (tasks: \(tasks.joined(separator: ", ")))")
            }
            let key = canonical + "\u{0}" + task
            if let first = seen[key] {
                throw .invalidData(file: path, location: location, problem: "duplicate score for \(model) on \(task) (first on line \(first))")
            }
            seen[key] = record.line
            let metric = metricColumn.map { record.fields[$0].trimmingCharacters(in: " \t") }
            rows.append(ScoreRow(model: model, task: task, score: score, metric: metric?.isEmpty == false ? metric : nil, line: record.line))
        }
        return ScoreTable(rows: rows, path: path)
    }

    /// `i+j` split at the `+` where both sides are tasks (task names may contain `+`).
    static func splitMerge(_ model: String, known: Set<String>) -> (String, String)? {
        for index in model.indices where model[index] == "+" {
            let first = String(model[..<index]), second = String(model[model.index(after: index)...])
            if known.contains(first), known.contains(second), first != second { return (first, second) }
        }
        return nil
    }

    /// score(i on i) per task, nil where missing.
    public func selfScores(tasks: [String]) -> [Double?] {
        tasks.map { task in rows.first { $0.model == task && $0.task == task }?.score }
    }

    /// δ(i, j) = score(i on i) − score(Comb(i, j) on i); NaN on the diagonal and where a score is
    /// missing. Also the pairs that are missing, for a warning.
    public func delta(tasks: [String]) -> (PairMatrix, missing: [String]) {
        let n = tasks.count
        let known = Set(tasks)
        var merged: [String: Double] = [:]
        for row in rows where !known.contains(row.model) {
            guard let (first, second) = Self.splitMerge(row.model, known: known) else { continue }
            merged[row.task + "+" + (row.task == first ? second : first)] = row.score
        }
        let own = selfScores(tasks: tasks)
        var delta = PairMatrix(count: n)
        var missing: [String] = []
        for i in 0..<n {
            for j in 0..<n where i != j {
                if let single = own[i], let merge = merged[tasks[i] + "+" + tasks[j]] {
                    delta[i, j] = single - merge
                } else {
                    missing.append("\(tasks[i])+\(tasks[j]) on \(tasks[i])")
                }
            }
        }
        return (delta, missing)
    }
}

/// A minimal RFC 4180 reader: comma-separated, `"` quotes with `""` escapes, LF or CRLF.
enum CSVRecords {
    struct Record {
        var fields: [String]
        var line: Int
    }

    static func parse(_ text: String, file: String) throws(ToolError) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1, recordLine = 1
        var atFieldStart = true
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func endRecord() {
            fields.append(field)
            records.append(Record(fields: fields, line: recordLine))
            fields = []; field = ""; atFieldStart = true
        }
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; pending = next }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where atFieldStart:
                inQuotes = true
                atFieldStart = false
            case ",":
                fields.append(field); field = ""; atFieldStart = true
            case "\r":
                let next = iterator.next()
                if next != "\n" { pending = next }
                endRecord(); line += 1; recordLine = line
            case "\n":
                endRecord(); line += 1; recordLine = line
            default:
                field.unicodeScalars.append(scalar)
                atFieldStart = false
            }
        }
        if inQuotes { throw .invalidData(file: file, location: "line \(recordLine)", problem: "unterminated quoted field") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}

private extension String {
    func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
