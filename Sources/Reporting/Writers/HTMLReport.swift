import Charts
import Diagnostics
import Foundation
import Mustache
import ReportTemplates

/// The HTML templates of a report: the default set (`templates/html`, shipped beside the binary),
/// with any file of a user's `--templates` folder taking the place of the default of that name.
public struct ReportTemplateSet: Sendable {
    /// Template names the report uses; `report` is the page, the others are partials.
    public static let names = ["report", "section", "block", "figure", "table"]
    /// Every file name a templates folder may hold: the templates and the style sheet.
    public static let fileNames = names.map { $0 + ".mustache" } + ["style.css"]
    public var library: MustacheLibrary
    /// The style sheet, inlined into the page.
    public var style: String
    /// One per file of the `--templates` folder that tvgeo does not use (a misspelt
    /// `secton.mustache` would otherwise be ignored without a word), in name order.
    public var warnings: [Warning] = []

    /// The defaults, each replaced by the file of the same name in `override` when it has one.
    /// A missing `override` is exit 66, a file there is exit 64; a template that is not UTF-8 or
    /// not valid Mustache is exit 65, naming the file and, for a syntax error, the line and column
    /// (`my-templates/section.mustache: line 3, column 7: unclosed section "figures"`). Other files
    /// in `override` (hidden ones and folders aside) are named in `warnings`.
    public static func load(override: String? = nil) throws(ToolError) -> ReportTemplateSet {
        guard let defaults = ReportTemplates.defaultDirectory?.path else {
            throw .internalError("the default report templates are missing (the tvgeo_ReportTemplates.resources bundle is not beside the binary)")
        }
        var warnings: [Warning] = []
        if let override {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: override, isDirectory: &isDirectory) else {
                throw .missingInput(path: override, problem: "the templates folder does not exist")
            }
            guard isDirectory.boolValue else { throw .usage("--templates must be a folder of .mustache files (\(override) is a file)") }
            warnings = unusedFiles(in: override)
        }
        /// The file's path (in `override` when it is there, else in the defaults) and its text.
        func read(_ file: String) throws(ToolError) -> (path: String, text: String) {
            for folder in [override, defaults].compactMap({ $0 }) {
                let path = joined(folder, file)
                guard FileManager.default.fileExists(atPath: path) else { continue }
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw .missingInput(path: path, problem: "cannot read the template")
                }
                guard let text = String(validating: data, as: UTF8.self) else {
                    throw .invalidData(file: path, location: nil, problem: "the template is not valid UTF-8")
                }
                return (path, text)
            }
            throw .internalError("the default template \(file) is missing from \(defaults)")
        }
        var library = MustacheLibrary()
        for name in names {
            let (path, text) = try read(name + ".mustache")
            do {
                try library.register(text, named: name)
            } catch {
                let syntax = MustacheSyntaxProblem(error, text: text)
                throw .invalidData(file: path, location: syntax.location, problem: syntax.problem)
            }
        }
        return ReportTemplateSet(library: library, style: try read("style.css").text, warnings: warnings)
    }

    /// A warning for each file of `folder` that is not one of `fileNames`, with a did-you-mean
    /// for a likely typo (`secton.mustache`, `Section.mustache`, `section.html`). Hidden files and
    /// folders are passed over; an unreadable folder gives no warning (reading the templates
    /// themselves reports it).
    static func unusedFiles(in folder: String) -> [Warning] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let stems = fileNames.map { ($0 as NSString).deletingPathExtension }
        let known = names.joined(separator: ", ") + " (.mustache), style.css"
        return entries.sorted().compactMap { entry in
            var isDirectory: ObjCBool = false
            guard !entry.hasPrefix("."), !fileNames.contains(entry),
                  FileManager.default.fileExists(atPath: joined(folder, entry), isDirectory: &isDirectory), !isDirectory.boolValue
            else { return nil }
            // The whole name first (a typo), else the name without its extension (a wrong extension).
            let stem = (entry as NSString).deletingPathExtension
            let byStem = stems.firstIndex { $0.lowercased() == stem.lowercased() }
                ?? Wording.closest(to: stem, among: stems).flatMap { stems.firstIndex(of: $0) }
            let suggestion = Wording.closest(to: entry, among: fileNames) ?? byStem.map { fileNames[$0] }
            let hint = suggestion.map { " (did you mean \($0)?)" } ?? ""
            return Warning("\(joined(folder, Wording.escaped(entry))) is not a template tvgeo uses\(hint); known: \(known)")
        }
    }

    /// `folder/file`, without a doubled slash when the folder was given with a trailing one.
    private static func joined(_ folder: String, _ file: String) -> String {
        folder.hasSuffix("/") ? folder + file : folder + "/" + file
    }
}

/// The report as one self-contained HTML page: the document value turned into the data the
/// templates receive (documented in docs/report.md), figures inlined as SVG.
public enum HTMLReport {
    /// `svg` maps figure names to their rendered SVG files; `files` lists, per figure, the figure
    /// files written beside the report (for the download links), and per table its table files.
    /// `beside` names the other files written next to the page (report.pdf, metrics.json): the
    /// header links to them and the footer points to metrics.json when it is there.
    public static func render(_ document: ReportDocument, templates: ReportTemplateSet,
                              svg: [String: Data], files: [String: [String]], beside: [String] = ["metrics.json"]) throws(ToolError) -> String {
        var context = context(document, style: templates.style, svg: svg, files: files)
        context["hasMetricsFile"] = beside.contains("metrics.json")
        context["downloads"] = beside.map { ["href": $0, "label": $0] }
        context["hasDownloads"] = !beside.isEmpty
        guard let html = templates.library.render(context, withTemplate: "report") else {
            throw .internalError("the report template did not render")
        }
        return html
    }

    static func context(_ document: ReportDocument, style: String, svg: [String: Data], files: [String: [String]]) -> [String: Any] {
        func links(_ name: String) -> [[String: Any]] {
            (files[name] ?? []).map { path in ["href": path, "label": (path as NSString).pathExtension] }
        }
        func figure(_ name: String) -> [String: Any]? {
            guard let figure = document.figure(named: name) else { return nil }
            return ["name": figure.name, "caption": figure.caption, "svg": svg[name].map(SVGEmbedding.inlineMarkup) ?? "",
                    "width": Int(figure.scene.size.width.rounded()),
                    "title": figure.scene.title ?? figure.name, "links": links(name), "hasLinks": !(files[name] ?? []).isEmpty]
        }
        func table(_ name: String) -> [String: Any]? {
            guard let table = document.table(named: name) else { return nil }
            let data = table.data
            let header = [data.cornerHeader] + data.columnHeaders
            let rows: [[String: Any]] = data.rows.map { row in
                ["header": row.header,
                 "cells": (0..<data.columnCount).map { index -> [String: Any] in
                     let cell = index < row.cells.count ? row.cells[index] : TableData.Cell("")
                     let align: String
                     switch data.alignment(ofColumn: index) {
                     case .leading: align = "left"
                     case .center: align = "center"
                     case .trailing: align = "right"
                     }
                     return ["text": cell.text, "bold": cell.emphasis.contains(.bold), "italic": cell.emphasis.contains(.italic), "align": align]
                 }]
            }
            return ["name": table.name, "title": data.title ?? "", "caption": data.caption ?? "", "notes": table.notes ?? "",
                    "header": header, "rows": rows, "links": links(name), "hasLinks": !(files[name] ?? []).isEmpty]
        }
        func block(_ block: ReportBlock) -> [String: Any] {
            // Every key is present in every block, so that a missing key never resolves in an
            // enclosing context (Mustache looks names up outward).
            var entry: [String: Any] = ["subheading": false, "paragraph": false, "bullets": false, "keyValues": false,
                                        "figures": false, "table": false, "definitions": false]
            switch block {
            case .subheading(let text): entry["subheading"] = ["text": text]
            case .paragraph(let text): entry["paragraph"] = ["text": text]
            case .bullets(let items): entry["bullets"] = ["items": items]
            case .keyValues(let pairs): entry["keyValues"] = ["items": pairs.map { ["key": $0.key, "value": $0.value] }]
            case .figures(let names): entry["figures"] = ["items": names.compactMap(figure), "count": names.count]
            case .table(let name): entry["table"] = table(name) ?? false
            case .definitions(let items):
                entry["definitions"] = ["items": items.map { ["name": $0.name, "mathML": $0.mathML, "formula": $0.formula, "text": $0.text] }]
            }
            return entry
        }
        let provenance = document.provenance
        let context: [String: Any] = [
            "title": document.title,
            "subtitle": document.subtitle,
            "style": style,
            "fontFamily": cssStringContent(document.style.fontFamily),
            // The page's 15 px body text scales with the figure style's base size (8 pt).
            "fontSize": NumberFormat.fixed(15 * document.style.fontSize / 8, decimals: 1),
            "summary": document.summary,
            "sections": document.sections.map { section in
                ["id": section.id, "title": section.title, "startsPage": section.startsPage, "blocks": section.blocks.map(block)]
            },
            "provenance": ["version": provenance.toolVersion, "commandLine": provenance.commandLine, "date": provenance.date,
                           "inputs": provenance.inputs.map { ["role": $0.role, "path": $0.path, "bytes": $0.bytes, "sha256": $0.sha256] }],
        ]
        return withoutForbiddenCharacters(context) as! [String: Any]
    }

    /// `text` as the content of a double-quoted CSS string: letters, digits, space, `-` and `_` as
    /// they are, every other character as a CSS escape (`\22 ` for `"`), so that a font name can
    /// neither end the string nor the `<style>` element, and HTML escaping leaves it unchanged.
    static func cssStringContent(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || " -_".unicodeScalars.contains(scalar)) {
                out.unicodeScalars.append(scalar)
            } else if scalar.properties.generalCategory != .control {
                out += "\\" + String(scalar.value, radix: 16) + " "
            }
        }
        return out
    }

    /// Keys whose strings are tvgeo's own markup or the style sheet, passed through as they are.
    static let markupKeys: Set<String> = ["svg", "mathML", "style"]

    /// `value` (a context dictionary, a list or a string) with every string, at any depth, cleared
    /// of the characters XML 1.0 forbids (C0 controls other than tab, line feed and carriage
    /// return; U+FFFE, U+FFFF), so that a name holding one keeps the page well-formed (the page
    /// is polyglot HTML5); the strings under `markupKeys` are left alone. The templates escape
    /// `<`, `>`, `&` and quotes; this only drops what no escape can write.
    static func withoutForbiddenCharacters(_ value: Any) -> Any {
        switch value {
        case let text as String:
            guard text.unicodeScalars.contains(where: isForbidden) else { return text }
            var out = ""
            out.unicodeScalars.append(contentsOf: text.unicodeScalars.filter { !isForbidden($0) })
            return out
        case let dictionary as [String: Any]:
            return dictionary.reduce(into: [String: Any]()) { result, entry in
                result[entry.key] = markupKeys.contains(entry.key) ? entry.value : withoutForbiddenCharacters(entry.value)
            }
        case let list as [Any]:
            return list.map(withoutForbiddenCharacters)
        default:
            return value
        }
    }

    private static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r") || scalar.value == 0xFFFE || scalar.value == 0xFFFF
    }
}
