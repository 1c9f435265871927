/// One block of a paged document, laid out top to bottom by `PagedDocument`.
public enum DocumentBlock: Hashable, Sendable {
    /// The document's title (large, bold) with an optional subtitle and a rule under both; for the
    /// top of a title page. Never ends a page.
    case title(String, subtitle: String? = nil)
    /// A section heading. `newPage` starts it on a fresh page; otherwise it moves to the next page
    /// when it would end one (it always stays with the start of what follows).
    case heading(String, newPage: Bool = false)
    /// A smaller heading inside a section; also kept with what follows.
    case subheading(String)
    /// Running text wrapped to the content width; may break between lines across pages (never
    /// leaving a single first or last line of a paragraph of four or more lines alone).
    case paragraph([TextRun])
    /// A bulleted list, one item per element, each wrapped like a paragraph.
    case bullets([[TextRun]])
    /// A two-column definition list: keys (bold) on the left, values wrapped on the right. Long
    /// tokens (paths, hashes) break between characters rather than leave the page.
    case keyValues([KeyValue])
    /// A figure, centred and scaled down uniformly (never up) to fit the content width and the
    /// page height; the caption sits under it, on the same page. A scene whose size is not finite
    /// and positive is left out, caption included.
    case figure(Scene, caption: String? = nil)
    /// A table drawn by `TableFigure` at the content width. `caption`, when given, replaces the
    /// table's own. A table taller than the space left is split between rows; each continuation
    /// repeats the header row, the title gains "(continued)" and the caption goes under the last part.
    case table(TableData, caption: String? = nil)
    /// The next block starts on a new page (nothing happens at the top of an empty page).
    case pageBreak

    /// A paragraph of plain text.
    public static func paragraph(_ text: String) -> DocumentBlock { .paragraph([TextRun(text)]) }

    /// A bulleted list of plain items.
    public static func bullets(_ items: [String]) -> DocumentBlock { .bullets(items.map { [TextRun($0)] }) }

    /// A definition list from (key, value) pairs.
    public static func keyValues(_ pairs: [(String, String)]) -> DocumentBlock {
        .keyValues(pairs.map { KeyValue($0.0, $0.1) })
    }
}

/// One row of a definition list.
public struct KeyValue: Hashable, Sendable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}
