/// Type sizes (points) and spacing of a paged document's own text; figures and tables inside it
/// keep their `Theme`.
public struct DocumentTypography: Hashable, Sendable {
    public var titleSize = 20.0
    public var subtitleSize = 12.0
    public var headingSize = 14.0
    public var subheadingSize = 11.0
    public var bodySize = 10.0
    public var captionSize = 8.5
    public var footerSize = 8.0
    /// Extra space between the lines of running text.
    public var leading = 3.0
    /// Space between consecutive blocks.
    public var blockGap = 8.0
    /// Space between bullet items and between definition-list rows.
    public var itemGap = 3.0
    /// Space above a heading (and, halved, above a subheading); the space under both is `itemGap` × 2.
    public var headingGap = 18.0

    public init() {}
}

/// A multi-page document (an A4 report) made of `DocumentBlock`s, laid out into one `Scene` per
/// page, for `CairoRenderer.renderPDF(pages:title:)`.
///
/// Contracts: every text is measured with the `TextMeasurer` and wrapped to the content width
/// (page width less two margins); blocks flow top to bottom, a block that does not fit moves to
/// the next page (paragraphs and lists may break between lines, tables between rows); headings
/// and titles never end a page; nothing is drawn outside the page, and text stays inside the
/// margins except the footer, which sits in the bottom margin: `footer` on the left and "n / m"
/// on the right. There is always at least one page.
public struct PagedDocument: Sendable {
    /// ISO A4 portrait in points.
    public static let a4 = Size(width: 595.276, height: 841.89)

    public var blocks: [DocumentBlock]
    /// Page size in points; a size that is not finite and at least 200 × 200 gives A4.
    public var pageSize: Size
    /// The same on every side, in points; clamped so that the content area keeps at least 100 pt.
    public var margin: Double
    /// Text at the bottom left of every page (e.g. the report's title); nil for none.
    public var footer: String?
    /// "n / m" at the bottom right of every page.
    public var numbersPages: Bool
    /// Every page scene's title (the PDF Title when rendered).
    public var title: String?
    /// Fonts and colours, also passed to tables.
    public var theme: Theme
    public var typography: DocumentTypography

    public init(blocks: [DocumentBlock], pageSize: Size = PagedDocument.a4, margin: Double = 56, footer: String? = nil,
                numbersPages: Bool = true, title: String? = nil, theme: Theme = .paper, typography: DocumentTypography = .init()) {
        self.blocks = blocks
        self.pageSize = pageSize
        self.margin = margin
        self.footer = footer
        self.numbersPages = numbersPages
        self.title = title
        self.theme = theme
        self.typography = typography
    }

    /// The page size actually used.
    public var usablePageSize: Size {
        let ok = pageSize.width.isFinite && pageSize.height.isFinite && pageSize.width >= 200 && pageSize.height >= 200
        return ok ? pageSize : Self.a4
    }

    /// The margin actually used.
    public var usableMargin: Double {
        let size = usablePageSize
        let limit = (min(size.width, size.height) - 100) / 2
        return margin.isFinite ? min(max(margin, 0), limit) : min(56, limit)
    }

    /// The width text and tables are laid out to; build figures at this width to avoid scaling.
    public var contentWidth: Double { usablePageSize.width - 2 * usableMargin }

    /// One scene per page, in order.
    public func pages(measurer: TextMeasurer = .shared) -> [Scene] {
        DocumentLayout(document: self, measurer: measurer).pages()
    }
}
