import Diagnostics
import Foundation
import Mustache

/// A Mustache template that does not parse, as a user can act on it: the line and column (from 1,
/// counted in characters) and what is wrong, in words. The swift-mustache parser gives a position
/// and an error case; for a section left open or a tag never closed that position is the end of
/// the text, so the tags are scanned here (`MustacheSections`) to point at the opening tag and
/// name the section instead.
struct MustacheSyntaxProblem: Equatable {
    /// Where the problem is, from 1; nil only for an error that is not the parser's (none known).
    var line: Int?
    var column: Int?
    var problem: String

    /// "line 3, column 7", the `location` of the `ToolError`.
    var location: String? { line.map { "line \($0), column \(column ?? 1)" } }

    /// `error` is what `MustacheLibrary.register` threw for `text`.
    init(_ error: any Error, text: String) {
        guard let parserError = error as? MustacheTemplate.ParserError else {
            self.init(line: nil, column: nil, problem: "not a valid Mustache template (\(error))")
            return
        }
        let problem: String
        let kind = parserError.error as? MustacheTemplate.Error
        // The scan's finding where it explains this error (the scan stops at the first problem in
        // text order, as the parser does).
        let wanted: MustacheSections.Finding.Kind = kind == .expectedSectionEnd || kind == .sectionCloseNameIncorrect ? .section : .tag
        if let found = MustacheSections.firstProblem(in: text), found.kind == wanted {
            let (line, column) = Self.position(of: found.index, in: text)
            self.init(line: line, column: column, problem: found.problem)
            return
        }
        switch kind {
        case .expectedSectionEnd?: problem = "a section is still open at the end of the template"
        case .sectionCloseNameIncorrect?: problem = "the closing tag does not match the open section"
        case .unfinishedName?: problem = "tag not closed after its name: expected }} (a name holds ASCII letters, digits and . _ - ? *)"
        case .invalidSetDelimiter?: problem = "invalid set-delimiter tag (write {{=<% %>=}})"
        case .transformAppliedToInheritanceSection?: problem = "a transform cannot be applied to an inheritance section"
        case .illegalTokenInsideInheritSection?: problem = "only {{$block}} sections may appear inside a {{<parent}} tag"
        case .textInsideInheritSection?: problem = "text inside a {{<parent}} tag (only {{$block}} sections may appear there)"
        case .invalidConfigVariableSyntax?: problem = "invalid {{% … }} configuration tag"
        case .unrecognisedConfigVariable?: problem = "unknown {{% … }} configuration variable"
        case nil:
            // The parser's own position error: it ran off the end of the text inside a tag.
            problem = "the template ends inside a tag that is never closed"
        }
        self.init(line: parserError.context.lineNumber, column: parserError.context.columnNumber, problem: problem)
    }

    init(line: Int?, column: Int?, problem: String) {
        self.line = line
        self.column = column
        self.problem = problem
    }

    /// Line and column of `index` in `text`, both from 1; a CRLF line end counts as one.
    static func position(of index: String.Index, in text: String) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for character in text[..<index] {
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}

/// The section structure of a Mustache template, by a scan of its tags: `{{#name}}`, `{{^name}}`,
/// `{{$name}}` and `{{<name}}` open a section, `{{/name}}` closes one; `{{=<% %>=}}` changes the
/// delimiters, comments and other tags are skipped. Used only to explain a parse failure the
/// library reported.
enum MustacheSections {
    struct Finding {
        enum Kind { case section, tag }
        var kind: Kind
        /// Where the tag at fault starts (its opening delimiter).
        var index: String.Index
        var problem: String
    }

    /// The first problem in text order: a tag whose closing delimiter never comes (kind `tag`), a
    /// closing tag for no open section or for another than the innermost open (at that tag);
    /// else the innermost section still open at the end, at its opening tag. Nil when every tag
    /// ends and the sections nest.
    static func firstProblem(in text: String) -> Finding? {
        var (opening, closing) = ("{{", "}}")
        var open: [(name: String, index: String.Index)] = []
        var cursor = text.startIndex
        while let tagStart = text.range(of: opening, range: cursor..<text.endIndex) {
            let contentStart = tagStart.upperBound
            // `{{{name}}}` ends with a third brace after the closing delimiter.
            let end = text[contentStart...].first == "{" ? closing + "}" : closing
            guard let tagEnd = text.range(of: end, range: contentStart..<text.endIndex) else {
                return Finding(kind: .tag, index: tagStart.lowerBound, problem: "a tag opened here is never closed (no \(end) after it)")
            }
            let content = text[contentStart..<tagEnd.lowerBound]
            cursor = tagEnd.upperBound
            guard let sigil = content.first else { continue }
            let name = content.dropFirst().trimmingCharacters(in: .whitespaces)
            switch sigil {
            case "#", "^", "$", "<":
                open.append((name, tagStart.lowerBound))
            case "/":
                guard let innermost = open.popLast() else {
                    return Finding(kind: .section, index: tagStart.lowerBound,
                                   problem: "closing tag for \(Wording.quoted(name)), but no section is open")
                }
                guard innermost.name == name else {
                    let (line, column) = MustacheSyntaxProblem.position(of: innermost.index, in: text)
                    return Finding(kind: .section, index: tagStart.lowerBound,
                                   problem: "closing tag for \(Wording.quoted(name)), but the open section is "
                                            + "\(Wording.quoted(innermost.name)) (line \(line), column \(column))")
                }
            case "=":
                let delimiters = content.dropFirst().dropLast().split(whereSeparator: \.isWhitespace)
                guard content.count > 2, content.last == "=", delimiters.count == 2 else { return nil }
                (opening, closing) = (String(delimiters[0]), String(delimiters[1]))
            default:
                continue
            }
        }
        return open.last.map { Finding(kind: .section, index: $0.index, problem: "unclosed section \(Wording.quoted($0.name))") }
    }
}
