import AnalysisCore
import Charts
import Diagnostics
import Foundation
import JSONText
import Study
import TensorIO

/// The files a report can write, named as `--formats` names them.
public enum ReportFormat: String, CaseIterable, Sendable {
    case html, pdf, tex, svg, png, json, csv

    /// "html,pdf" → formats in canonical order; an unknown or empty list is a usage error.
    public static func parseList(_ names: [String]) throws(ToolError) -> [ReportFormat] {
        var chosen: Set<ReportFormat> = []
        for name in names.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !name.isEmpty {
            guard let format = ReportFormat(rawValue: name) else {
                throw .usage("unknown report format \"\(name)\" (use \(allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            chosen.insert(format)
        }
        guard !chosen.isEmpty else { throw .usage("--formats lists no format") }
        return allCases.filter(chosen.contains)
    }
}

/// Everything `tvgeo report` needs to run, from the command line, a `--config` file, or both
/// (command-line values win). Paths in a config file are relative to the file's folder.
public struct ReportRequest: Sendable, Equatable {
    public var adapters: [String] = []
    public var scores: String?
    public var name: String?
    public var out: String?
    public var base: String?
    public var subspaceRank: Int?
    public var ridgeLambda: Double?
    public var formats: [String]?
    public var metrics: [String]?
    public var modules: [String]?
    public var templates: String?
    public var title: String?
    public var figureWidth: String?
    /// The study file's `style` object, parsed; nil when it has none.
    public var style: FigureStyle?
    /// `--style FILE.json`, read over `style` by `figureStyle()`.
    public var styleFile: String?
    /// Display names of tasks, from the study file's `labels` and `--label task=short`.
    public var labels: [TaskLabel] = []
    /// Task names to emphasise in the figures (`--highlight a,b` or the study file's `highlight`); nil for none.
    public var highlight: [String]?
    /// The study file `highlight` came from; nil when it came from the command line.
    public var highlightFile: String?
    /// Both kinds: LoRA adapters beside the fine-tuned checkpoints, their scores, the intruder options.
    public var lora: [String] = []
    public var loraScores: String?
    public var intruderK: Int?
    public var intruderEpsilon: Double?

    public init() {}

    /// One display name for a task, and where it was given (the study file, or nil for `--label`).
    public struct TaskLabel: Sendable, Equatable {
        public var task: String
        public var label: String
        public var file: String?

        public init(task: String, label: String, file: String? = nil) {
            self.task = task
            self.label = label
            self.file = file
        }

        /// `--label task=short`; no "=" or an empty side is a usage error.
        public static func parse(_ argument: String) throws(ToolError) -> TaskLabel {
            guard let equals = argument.firstIndex(of: "=") else {
                throw .usage("--label \(Wording.quoted(argument)): write TASK=LABEL, e.g. --label sst2=SST-2")
            }
            let task = String(argument[..<equals]).trimmingCharacters(in: .whitespaces)
            let label = String(argument[argument.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            guard !task.isEmpty, !label.isEmpty else { throw .usage("--label \(Wording.quoted(argument)): TASK and LABEL must not be empty") }
            return TaskLabel(task: task, label: label)
        }
    }

    /// `override`'s values where it has them, this request's elsewhere.
    public func overridden(by override: ReportRequest) -> ReportRequest {
        var merged = self
        if !override.adapters.isEmpty { merged.adapters = override.adapters }
        merged.scores = override.scores ?? scores
        merged.name = override.name ?? name
        merged.out = override.out ?? out
        merged.base = override.base ?? base
        merged.subspaceRank = override.subspaceRank ?? subspaceRank
        merged.ridgeLambda = override.ridgeLambda ?? ridgeLambda
        merged.formats = override.formats ?? formats
        merged.metrics = override.metrics ?? metrics
        merged.modules = override.modules ?? modules
        merged.templates = override.templates ?? templates
        merged.title = override.title ?? title
        merged.figureWidth = override.figureWidth ?? figureWidth
        merged.style = override.style ?? style
        merged.styleFile = override.styleFile ?? styleFile
        // Per task, a label on the command line replaces the study file's.
        let overridden = Set(override.labels.map(\.task))
        merged.labels = labels.filter { !overridden.contains($0.task) } + override.labels
        if let chosen = override.highlight {
            merged.highlight = chosen
            merged.highlightFile = override.highlightFile
        }
        if !override.lora.isEmpty { merged.lora = override.lora }
        merged.loraScores = override.loraScores ?? loraScores
        merged.intruderK = override.intruderK ?? intruderK
        merged.intruderEpsilon = override.intruderEpsilon ?? intruderEpsilon
        return merged
    }

    /// The keys a config file may hold.
    public static let configKeys = ["adapters", "scores", "name", "out", "base", "subspace_rank", "formats", "metrics",
                                    "modules", "templates", "title", "figure_width", "style", "labels", "lora", "lora_scores",
                                    "intruder_k", "intruder_epsilon", "ridge_lambda", "highlight"]

    /// Reads a study file (JSON): the command's options under their snake_case names. Unknown
    /// keys and wrong types are refused (exit 65) naming the key.
    public static func readConfig(_ path: String) throws(ToolError) -> ReportRequest {
        let bytes = try readWholeFile(path, limit: 1 << 20)
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch {
            throw .invalidData(file: path, location: nil, problem: "not valid JSON: \(error)")
        }
        guard let pairs = json.objectPairs else {
            throw .invalidData(file: path, location: nil, problem: "the study config must be a JSON object of options")
        }
        let folder = (path as NSString).deletingLastPathComponent
        func resolve(_ relative: String) -> String {
            relative.hasPrefix("/") || folder.isEmpty ? relative : folder + "/" + relative
        }
        func string(_ key: String, _ value: JSONValue) throws(ToolError) -> String {
            guard let text = value.stringValue else { throw .invalidData(file: path, location: "\"\(key)\"", problem: "must be a string") }
            return text
        }
        func strings(_ key: String, _ value: JSONValue) throws(ToolError) -> [String] {
            guard let items = value.arrayValue else { throw .invalidData(file: path, location: "\"\(key)\"", problem: "must be an array of strings") }
            var result: [String] = []
            for item in items {
                guard let text = item.stringValue else {
                    throw .invalidData(file: path, location: "\"\(key)\"", problem: "must be an array of strings")
                }
                result.append(text)
            }
            return result
        }
        var request = ReportRequest()
        for (key, value) in pairs where !value.isNull {
            switch key {
            case "adapters", "lora":
                var entries: [String] = []
                if let named = value.objectPairs {
                    for (task, location) in named {
                        entries.append("\(task)=\(resolve(try string("\(key).\(task)", location)))")
                    }
                } else {
                    entries = try strings(key, value).map { entry in
                        AdapterArgument.splitName(entry).map { "\($0.0)=\(resolve($0.1))" } ?? resolve(entry)
                    }
                }
                if key == "lora" { request.lora = entries } else { request.adapters = entries }
            case "lora_scores": request.loraScores = resolve(try string(key, value))
            case "intruder_k":
                guard let k = value.intValue else { throw .invalidData(file: path, location: "\"\(key)\"", problem: "must be an integer") }
                request.intruderK = k
            case "intruder_epsilon":
                guard let epsilon = value.numberValue else {
                    throw .invalidData(file: path, location: "\"\(key)\"", problem: "must be a number")
                }
                request.intruderEpsilon = epsilon
            case "scores": request.scores = resolve(try string(key, value))
            case "name": request.name = try string(key, value)
            case "out": request.out = resolve(try string(key, value))
            case "base": request.base = resolve(try string(key, value))
            case "subspace_rank":
                guard let k = value.intValue else { throw .invalidData(file: path, location: "\"\(key)\"", problem: "must be an integer") }
                request.subspaceRank = k
            case "ridge_lambda":
                guard let lambda = value.numberValue else { throw .invalidData(file: path, location: "\"\(key)\"", problem: "must be a number") }
                request.ridgeLambda = lambda
            case "formats": request.formats = try strings(key, value)
            case "highlight":
                request.highlight = try strings(key, value)
                request.highlightFile = path
            case "metrics": request.metrics = try strings(key, value)
            case "modules": request.modules = try strings(key, value)
            case "templates": request.templates = resolve(try string(key, value))
            case "title": request.title = try string(key, value)
            case "figure_width":
                if let points = value.numberValue { request.figureWidth = "\(points)" } else { request.figureWidth = try string(key, value) }
            case "style": request.style = try FigureStyleFile.parse(value, file: path, path: "style")
            case "labels":
                guard let named = value.objectPairs else {
                    throw .invalidData(file: path, location: "\"labels\"", problem: "must be an object of task names to display names")
                }
                for (task, label) in named {
                    guard let text = label.stringValue?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
                        throw .invalidData(file: path, location: "\"labels.\(task)\"", problem: "must be a non-empty string")
                    }
                    request.labels.append(TaskLabel(task: task, label: text, file: path))
                }
            default:
                let known = configKeys.joined(separator: ", ")
                throw .invalidData(file: path, location: "\"\(key)\"",
                                   problem: "unknown option\(Wording.didYouMean(key, among: configKeys)) (known: \(known))")
            }
        }
        return request
    }

    /// The figure style: the study file's `style`, then `--style FILE.json` over it; the width is
    /// `--figure-width` (or the study file's `figure_width`) when given, else the style's.
    public func figureStyle() throws(ToolError) -> FigureStyle {
        var resolved = style ?? .default
        if let styleFile { resolved = try FigureStyleFile.read(styleFile, over: resolved) }
        if figureWidth != nil || resolved.width == nil { resolved.width = try Self.parseFigureWidth(figureWidth) }
        return resolved
    }

    /// Each task's display name (its own name unless a label gives another), checked against the
    /// study's `tasks`: a label for a task not in the study, or two tasks that would show the same
    /// name, is a usage error for `--label` (exit 64) and a data error naming the study file and
    /// key for its `labels` (exit 65).
    public func displayNames(tasks: [String]) throws(ToolError) -> [String] {
        func fail(_ label: TaskLabel, _ problem: String) -> ToolError {
            label.file.map { .invalidData(file: $0, location: "\"labels.\(label.task)\"", problem: problem) }
                ?? .usage("--label \(Wording.quoted(label.task + "=" + label.label)): " + problem)
        }
        guard !labels.isEmpty else { return tasks }
        var names = tasks
        for label in labels {
            guard let index = tasks.firstIndex(of: label.task) else {
                throw fail(label, "no task \(Wording.quoted(label.task)) in this study\(Wording.didYouMean(label.task, among: tasks)) "
                           + "(tasks: \(tasks.joined(separator: ", ")))")
            }
            guard !label.label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw fail(label, "a label must not hold control characters")
            }
            names[index] = label.label
        }
        for (index, name) in names.enumerated() {
            // Equal task names are refused later, with their own message.
            if let earlier = names[..<index].firstIndex(of: name), tasks[earlier] != tasks[index] {
                let culprit = labels.last { $0.task == tasks[index] } ?? labels.last { $0.task == tasks[earlier] }!
                throw fail(culprit, "\(tasks[earlier]) and \(tasks[index]) would both show as \(Wording.quoted(name))")
            }
        }
        return names
    }

    /// The indices of the tasks `highlight` names, checked against the study's `tasks` (the task
    /// names, not display names): an unknown name is a usage error for `--highlight` (exit 64) and a
    /// data error naming the study file for its `highlight` (exit 65), with a did-you-mean.
    public func highlightedTasks(tasks: [String]) throws(ToolError) -> Set<Int> {
        try Self.highlightedTasks(highlight ?? [], tasks: tasks, file: highlightFile)
    }

    /// See `highlightedTasks(tasks:)`; `file` is the study file the names came from (nil: the command line).
    public static func highlightedTasks(_ names: [String], tasks: [String], file: String?) throws(ToolError) -> Set<Int> {
        var chosen: Set<Int> = []
        for name in names.map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let index = tasks.firstIndex(of: name) else {
                let problem = "no task \(Wording.quoted(name)) in this study\(Wording.didYouMean(name, among: tasks))"
                    + (tasks.count <= 20 ? " (tasks: \(tasks.joined(separator: ", ")))" : "")
                if let file { throw .invalidData(file: file, location: "\"highlight\"", problem: problem) }
                throw .usage("--highlight: " + problem)
            }
            chosen.insert(index)
        }
        return chosen
    }

    /// The validated study this request names (nothing is read yet).
    public func studyInput() throws(ToolError) -> StudyInput {
        try StudyInput.resolve(adapters: adapters, name: name, out: out, scores: scores, base: base,
                               modules: modules, subspaceRank: subspaceRank, lora: lora, loraScores: loraScores,
                               intruderK: intruderK, intruderEpsilon: intruderEpsilon, ridgeLambda: ridgeLambda)
    }

    /// "cosine,l2" → metrics in canonical order; nil means all.
    public static func parseMetrics(_ names: [String]?) throws(ToolError) -> [DistanceMetric] {
        guard let names else { return DistanceMetric.allCases }
        var chosen: [DistanceMetric] = []
        for name in names.map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let metric = DistanceMetric(id: name.lowercased()) else {
                let suggestion = Wording.didYouMean(name, among: DistanceMetric.allCases.map(\.id))
                throw .usage("unknown metric \(Wording.quoted(name))\(suggestion) (use \(DistanceMetric.idList))")
            }
            if !chosen.contains(metric) { chosen.append(metric) }
        }
        guard !chosen.isEmpty else { throw .usage("--metrics lists no metric") }
        return DistanceMetric.allCases.filter(chosen.contains)
    }

    /// "single" (240 pt), "double" (500 pt) or a width in points between 150 and 1000.
    public static func parseFigureWidth(_ text: String?) throws(ToolError) -> Double {
        guard let text else { return FigureWidth.doubleColumn }
        switch text.lowercased() {
        case "single": return FigureWidth.singleColumn
        case "double": return FigureWidth.doubleColumn
        default:
            guard let points = Double(text), points.isFinite, (150...1000).contains(points) else {
                throw .usage("--figure-width must be single, double or a width in points from 150 to 1000 (got \"\(text)\")")
            }
            return points
        }
    }
}
