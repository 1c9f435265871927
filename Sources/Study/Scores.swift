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
    /// The rows about the study's tasks, in file order.
    public var rows: [ScoreRow]
    public var path: String
    /// At most one: the rows left out because they name tasks outside the study.
    public var warnings: [Warning] = []

    /// Reads a CSV with columns `model,task,score` (and optionally `metric`; other columns are
    /// ignored). Accepts a UTF-8 BOM, CRLF line ends and quoted fields. `model` is a task name or
    /// `i+j` (a Comb merge, either order); `task` is the task it was evaluated on, which must be
    /// the model itself or one of the two merged tasks.
    ///
    /// A file may cover more tasks than the study: a row whose task or merge partner is not in
    /// `tasks` is left out, and one warning counts these rows, names the first few unknown names
    /// and asks "did you mean …?" for a name close to a study task (a likely typo). Every row,
    /// kept or not, is still checked, and errors name the line: a wrong number of fields, an empty
    /// model or task, a score that is not a finite number, a model that does not fit its task, a
    /// duplicate row. A file with rows, none of them about `tasks`, is an error (probably the scores
    /// of another study). A missing column or an empty file is an error too.
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
        var outside = OutsideRows()
        for record in records.dropFirst() {
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: " \t").isEmpty }) { continue }
            let location = "line \(record.line)"
            guard record.fields.count == names.count else {
                throw .invalidData(file: path, location: location, problem: "\(record.fields.count) fields, the header has \(names.count)")
            }
            let model = record.fields[modelColumn].trimmingCharacters(in: " \t")
            let task = record.fields[taskColumn].trimmingCharacters(in: " \t")
            let scoreText = record.fields[scoreColumn].trimmingCharacters(in: " \t")
            guard !model.isEmpty, !task.isEmpty else {
                throw .invalidData(file: path, location: location, problem: "empty \(model.isEmpty ? "model" : "task")")
            }
            guard let score = Double(scoreText), score.isFinite else {
                throw .invalidData(file: path, location: location, problem: "score \"\(scoreText)\" is not a finite number")
            }
            let partner: String?
            do throws(ScoreRowProblem) {
                partner = try Self.partner(of: model, on: task, known: known)
            } catch {
                throw .invalidData(file: path, location: location, problem: error.text)
            }
            // One key per host and partner, whatever the order written.
            let key = task + "\u{0}" + (partner.map { "+" + $0 } ?? "")
            if let first = seen[key] {
                throw .invalidData(file: path, location: location,
                                   problem: "duplicate score for \(Wording.escaped(model)) on \(Wording.escaped(task)) (first on line \(first))")
            }
            seen[key] = record.line
            let foreign = ([task] + (partner.map { [$0] } ?? [])).filter { !known.contains($0) }
            if !foreign.isEmpty {
                outside.add(foreign)
                continue
            }
            let metric = metricColumn.map { record.fields[$0].trimmingCharacters(in: " \t") }
            rows.append(ScoreRow(model: model, task: task, score: score, metric: metric?.isEmpty == false ? metric : nil, line: record.line))
        }
        var table = ScoreTable(rows: rows, path: path)
        if outside.count > 0 {
            let hint = outside.suggestions(tasks: tasks).map { "; did you mean " + $0 + "?" } ?? ""
            let one = outside.count == 1
            guard !rows.isEmpty else {
                throw .invalidData(file: path, location: nil,
                                   problem: (one ? "its one row is not" : "none of its \(outside.count) rows is") + " about this study's tasks "
                                            + "(\(tasks.map(Wording.escaped).joined(separator: ", "))) alone: "
                                            + "\(one ? "it names" : "they name") \(outside.listing)"
                                            + "\(hint); is this the scores file of another study?")
            }
            table.warnings.append(Warning("\(path): \(outside.count) row\(one ? " names" : "s name") tasks outside this study "
                                          + "(\(outside.listing)) and \(one ? "is" : "are") left out\(hint)"))
        }
        return table
    }

    /// The partner of `model` evaluated on `task`: nil for a single adapter on its own task, the
    /// other side of a merge `task+partner` or `partner+task` otherwise. Checked whatever the
    /// study's tasks; they only break the tie where task names hold `+` (a partner in `known` wins).
    static func partner(of model: String, on task: String, known: Set<String>) throws(ScoreRowProblem) -> String? {
        if model == task { return nil }
        var candidates: [String] = []
        if model.hasPrefix(task + "+") { candidates.append(String(model.dropFirst(task.count + 1))) }
        if model.hasSuffix("+" + task) { candidates.append(String(model.dropLast(task.count + 1))) }
        candidates.removeAll { $0.isEmpty || $0 == task }
        if let partner = candidates.first(where: known.contains) ?? candidates.first { return partner }
        // Names as messages show them (look-alike letters as code points).
        let (shownModel, shownTask) = (Wording.escaped(model), Wording.escaped(task))
        if known.contains(model) {
            throw ScoreRowProblem(text: "model \(shownModel) is evaluated on \(shownTask); a single adapter's score must be on its own task")
        }
        if Self.splitMerge(model, known: known) != nil {
            throw ScoreRowProblem(text: "merge \(shownModel) is evaluated on \(shownTask), which is neither of its tasks")
        }
        throw ScoreRowProblem(text: "model \(Wording.quoted(model)) does not fit task \(shownTask): expected \(shownTask) itself "
                                    + "or a merge \(shownTask)+other or other+\(shownTask)")
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
        for row in rows {
            // The partner as `read` found it (nil for a single adapter).
            guard let partner = try? Self.partner(of: row.model, on: row.task, known: known), known.contains(partner) else { continue }
            merged[row.task + "+" + partner] = row.score
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

/// Why a row's model does not fit its task (the caller adds the file and line).
struct ScoreRowProblem: Error {
    var text: String
}

/// The rows of a scores file that name tasks outside the study: how many, and the unknown names
/// in the order they first appear.
struct OutsideRows {
    private(set) var count = 0
    private(set) var names: [String] = []

    /// How many names `listing` shows before "…".
    static let listed = 5

    mutating func add(_ foreign: [String]) {
        count += 1
        for name in foreign where !names.contains(name) { names.append(name) }
    }

    /// The first `listed` names (as `Wording.escaped` shows them), then "…" when there are more.
    var listing: String {
        (names.prefix(Self.listed).map(Wording.escaped) + (names.count > Self.listed ? ["…"] : [])).joined(separator: ", ")
    }

    /// "cola instead of cloa, rte instead of rtee" for every unknown name (listed or not) that is
    /// a likely typo of a study task (see `Wording.isLikelyTypo`); nil when there is none.
    func suggestions(tasks: [String]) -> String? {
        let pairs = names.compactMap { name -> String? in
            Wording.closest(to: name, among: tasks).map { "\(Wording.escaped($0)) instead of \(Wording.escaped(name))" }
        }
        return pairs.isEmpty ? nil : pairs.joined(separator: ", ")
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
