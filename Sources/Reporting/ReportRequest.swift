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

    public init() {}

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
        return merged
    }

    /// The keys a config file may hold.
    public static let configKeys = ["adapters", "scores", "name", "out", "base", "subspace_rank", "formats", "metrics",
                                    "modules", "templates", "title", "figure_width", "ridge_lambda"]

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
            case "adapters":
                if let named = value.objectPairs {
                    for (task, location) in named {
                        request.adapters.append("\(task)=\(resolve(try string("adapters.\(task)", location)))")
                    }
                } else {
                    request.adapters = try strings(key, value).map { entry in
                        AdapterArgument.splitName(entry).map { "\($0.0)=\(resolve($0.1))" } ?? resolve(entry)
                    }
                }
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
            case "metrics": request.metrics = try strings(key, value)
            case "modules": request.modules = try strings(key, value)
            case "templates": request.templates = resolve(try string(key, value))
            case "title": request.title = try string(key, value)
            case "figure_width":
                if let points = value.numberValue { request.figureWidth = "\(points)" } else { request.figureWidth = try string(key, value) }
            default:
                throw .invalidData(file: path, location: "\"\(key)\"", problem: "unknown option (known: \(configKeys.joined(separator: ", ")))")
            }
        }
        return request
    }

    /// The validated study this request names (nothing is read yet).
    public func studyInput() throws(ToolError) -> StudyInput {
        try StudyInput.resolve(adapters: adapters, name: name, out: out, scores: scores, base: base,
                               modules: modules, subspaceRank: subspaceRank, ridgeLambda: ridgeLambda)
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
