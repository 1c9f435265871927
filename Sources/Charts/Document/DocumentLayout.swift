/// A piece of a page that is placed whole: a line of text, a heading, a figure with its caption, a
/// part of a table. `draw` gets the content's left edge and the slab's top.
struct Slab {
    var height: Double
    /// Space above the slab, dropped at the top of a page.
    var spaceBefore: Double
    /// When set, the space above the next slab instead of its own (tight space under headings).
    var spaceAfter: Double?
    /// The slab goes on the same page as the start of the next one.
    var keepWithNext = false
    /// The slab starts a new page (unless the page is still empty).
    var breakBefore = false
    /// The height of the smallest head `split` can give; `height` for slabs that cannot split.
    var minimumHeight: Double
    var draw: (_ left: Double, _ top: Double) -> [Mark]
    /// A head no taller than the given height and the rest, or nil when no head fits.
    var split: ((Double) -> (head: Slab, rest: Slab)?)?

    init(height: Double, spaceBefore: Double, keepWithNext: Bool = false, draw: @escaping (Double, Double) -> [Mark]) {
        self.height = height
        self.spaceBefore = spaceBefore
        self.keepWithNext = keepWithNext
        self.minimumHeight = height
        self.draw = draw
    }
}

/// Turns a `PagedDocument`'s blocks into slabs and flows them onto pages.
struct DocumentLayout {
    let document: PagedDocument
    let measurer: TextMeasurer

    var type: DocumentTypography { document.typography }
    var theme: Theme { document.theme }
    var size: Size { document.usablePageSize }
    var margin: Double { document.usableMargin }
    var width: Double { document.contentWidth }
    var contentHeight: Double { size.height - 2 * margin }
    /// Figures leave this much of a page free, so a heading still fits above a full-page figure.
    var headingReserve: Double { type.headingGap + 2 * type.headingSize }

    func body(_ size: Double? = nil, color: Color? = nil) -> RichTextLayout {
        RichTextLayout(style: theme.text(size ?? type.bodySize, color: color), measurer: measurer)
    }

    func pages() -> [Scene] {
        var slabs: [Slab] = []
        var breakNext = false
        for block in document.blocks {
            if case .pageBreak = block {
                breakNext = true
                continue
            }
            var made = self.slabs(for: block)
            guard !made.isEmpty else { continue }
            if breakNext { made[0].breakBefore = true }
            breakNext = false
            slabs += made
        }
        return finished(flow(slabs))
    }

    // MARK: Flowing

    /// The marks of each page's content.
    private func flow(_ input: [Slab]) -> [[Mark]] {
        var pages: [[Mark]] = []
        var current: [Mark] = []
        var y = margin
        var empty = true
        let bottom = size.height - margin
        func newPage() {
            pages.append(current)
            current = []
            y = margin
            empty = true
        }
        var queue = input
        var i = 0
        while i < queue.count {
            let slab = queue[i]
            if slab.breakBefore && !empty { newPage() }
            let gap = empty ? 0 : (i > 0 ? queue[i - 1].spaceAfter : nil) ?? slab.spaceBefore
            let room = bottom - y - gap
            if slab.height > room + 1e-9 {
                if let split = slab.split, slab.minimumHeight <= room + 1e-9, let (head, rest) = split(room) {
                    current += head.draw(margin, y + gap)
                    queue[i] = rest
                    newPage()
                    continue
                }
                if !empty {
                    newPage()
                    continue
                }
            } else if !empty && slab.keepWithNext {
                // Keep the chain together when it fits on a fresh page.
                let chain = chainHeight(queue, from: i)
                if chain > room + 1e-9 && chain <= contentHeight + 1e-9 {
                    newPage()
                    continue
                }
            }
            current += slab.draw(margin, y + gap)
            y += gap + slab.height
            empty = false
            i += 1
        }
        if !current.isEmpty || pages.isEmpty { pages.append(current) }
        return pages
    }

    /// The height from slab `i` to the smallest start of the first slab after it that is not kept
    /// with its successor, gaps included.
    private func chainHeight(_ slabs: [Slab], from i: Int) -> Double {
        var total = slabs[i].height
        var k = i
        while slabs[k].keepWithNext && k + 1 < slabs.count {
            let next = slabs[k + 1]
            if next.breakBefore { break }
            total += (slabs[k].spaceAfter ?? next.spaceBefore) + (next.keepWithNext ? next.height : next.minimumHeight)
            k += 1
        }
        return total
    }

    /// Page scenes with footers.
    private func finished(_ pages: [[Mark]]) -> [Scene] {
        let style = theme.text(type.footerSize, color: theme.mutedTextColor)
        let baseline = size.height - margin / 2
        return pages.enumerated().map { index, marks in
            var scene = Scene(size: size, background: .white, marks: marks, title: document.title)
            var numberWidth = 0.0
            if document.numbersPages {
                let number = "\(index + 1) / \(pages.count)"
                numberWidth = measurer.measure(number, style: style).width
                scene.add(.text(TextMark(number, at: Point(x: size.width - margin, y: baseline), style: style, horizontal: .end)))
            }
            if let footer = document.footer, !footer.isEmpty {
                let room = width - (numberWidth > 0 ? numberWidth + 12 : 0)
                let text = measurer.truncate(footer.replacingOccurrences(of: "\n", with: " "), style: style, maxWidth: room)
                scene.add(.text(TextMark(text, at: Point(x: margin, y: baseline), style: style)))
            }
            return scene
        }
    }
}
