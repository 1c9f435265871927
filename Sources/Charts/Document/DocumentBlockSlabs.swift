/// The slabs of each kind of block.
extension DocumentLayout {
    func slabs(for block: DocumentBlock) -> [Slab] {
        switch block {
        case .title(let title, let subtitle):
            return [titleSlab(title, subtitle: subtitle)]
        case .heading(let text, let newPage):
            var slab = headingSlab(text, size: type.headingSize, gap: type.headingGap)
            slab.breakBefore = newPage
            return [slab]
        case .subheading(let text):
            return [headingSlab(text, size: type.subheadingSize, gap: type.headingGap * 0.6)]
        case .paragraph(let runs):
            return textSlabs(body().lines(runs, maxWidth: width), layout: body(), indent: 0, spaceBefore: type.blockGap)
        case .bullets(let items):
            return items.enumerated().flatMap { index, runs in
                bulletSlabs(runs, spaceBefore: index == 0 ? type.blockGap : type.itemGap)
            }
        case .keyValues(let pairs):
            return keyValueSlabs(pairs)
        case .figure(let scene, let caption):
            return figureSlab(scene, caption: caption).map { [$0] } ?? []
        case .table(let table, let caption):
            var data = table
            if let caption { data.caption = caption }
            return [tableSlab(data, from: 0, spaceBefore: type.blockGap + 2)]
        case .pageBreak:
            return []
        }
    }

    /// One slab per line; a text of four or more lines keeps its first two and last two together,
    /// a shorter one stays whole.
    private func textSlabs(_ lines: [RichTextLayout.Line], layout: RichTextLayout, indent: Double, spaceBefore: Double,
                           extra: ((Int, Double, Double) -> [Mark])? = nil) -> [Slab] {
        let metrics = layout.lineMetrics
        let pitch = metrics.height + type.leading
        return lines.enumerated().map { index, line in
            let keep = lines.count < 4 ? index < lines.count - 1 : (index == 0 || index == lines.count - 2)
            // The leading goes under each line but the last, so a block ends at its last descender.
            let height = index == lines.count - 1 ? metrics.height : pitch
            return Slab(height: height, spaceBefore: index == 0 ? spaceBefore : 0, keepWithNext: keep) { left, top in
                layout.marks(line, x: left + indent, baseline: top + metrics.baseline) + (extra?(index, left, top) ?? [])
            }
        }
    }

    private func titleSlab(_ title: String, subtitle: String?) -> Slab {
        let titleLayout = RichTextLayout(style: theme.text(type.titleSize, weight: .bold), measurer: measurer)
        let titleLines = titleLayout.lines([TextRun(title)], maxWidth: width)
        let subtitleLayout = body(type.subtitleSize, color: theme.mutedTextColor)
        let subtitleLines = subtitle.map { subtitleLayout.lines([TextRun($0)], maxWidth: width) } ?? []
        let t = titleLayout.lineMetrics, s = subtitleLayout.lineMetrics
        let titleHeight = Double(titleLines.count) * t.height
        let subtitleHeight = subtitleLines.isEmpty ? 0 : 4 + Double(subtitleLines.count) * s.height
        let ruleGap = 8.0
        var slab = Slab(height: titleHeight + subtitleHeight + ruleGap, spaceBefore: type.headingGap, keepWithNext: true) { left, top in
            var marks: [Mark] = []
            for (k, line) in titleLines.enumerated() {
                marks += titleLayout.marks(line, x: left, baseline: top + Double(k) * t.height + t.baseline)
            }
            for (k, line) in subtitleLines.enumerated() {
                marks += subtitleLayout.marks(line, x: left, baseline: top + titleHeight + 4 + Double(k) * s.height + s.baseline)
            }
            let ruleY = top + titleHeight + subtitleHeight + ruleGap
            marks.append(.path(.line(from: Point(x: left, y: ruleY), to: Point(x: left + width, y: ruleY)),
                               .stroke(theme.axisColor, width: 0.8)))
            return marks
        }
        slab.spaceAfter = type.headingGap
        return slab
    }

    private func headingSlab(_ text: String, size: Double, gap: Double) -> Slab {
        let layout = RichTextLayout(style: theme.text(size, weight: .bold), measurer: measurer)
        let lines = layout.lines([TextRun(text)], maxWidth: width)
        let m = layout.lineMetrics
        var slab = Slab(height: Double(lines.count) * m.height, spaceBefore: gap, keepWithNext: true) { left, top in
            lines.enumerated().flatMap { k, line in layout.marks(line, x: left, baseline: top + Double(k) * m.height + m.baseline) }
        }
        slab.spaceAfter = 2 * type.itemGap
        return slab
    }

    private func bulletSlabs(_ runs: [TextRun], spaceBefore: Double) -> [Slab] {
        let layout = body()
        let indent = 14.0
        let bulletStyle = theme.text(type.bodySize)
        let baseline = layout.lineMetrics.baseline
        return textSlabs(layout.lines(runs, maxWidth: width - indent), layout: layout, indent: indent, spaceBefore: spaceBefore) { index, left, top in
            index == 0 ? [.text(TextMark("•", at: Point(x: left + 3, y: top + baseline), style: bulletStyle))] : []
        }
    }

    private func keyValueSlabs(_ pairs: [KeyValue]) -> [Slab] {
        let keys = RichTextLayout(style: theme.text(type.bodySize, weight: .bold), measurer: measurer)
        let values = body()
        let gap = 12.0
        let natural = pairs.map { measurer.measure($0.key, style: keys.style).width }.max() ?? 0
        let keyWidth = min(natural, width * 0.35)
        let valueWidth = width - keyWidth - gap
        let metrics = (height: max(keys.lineMetrics.height, values.lineMetrics.height),
                       baseline: max(keys.lineMetrics.baseline, values.lineMetrics.baseline))
        let pitch = metrics.height + type.leading
        var slabs: [Slab] = []
        for (p, pair) in pairs.enumerated() {
            let keyLines = keys.lines([TextRun(pair.key)], maxWidth: keyWidth)
            let valueLines = values.lines([TextRun(pair.value)], maxWidth: valueWidth)
            let rows = max(keyLines.count, valueLines.count, 1)
            for row in 0..<rows {
                let keep = rows < 4 ? row < rows - 1 : (row == 0 || row == rows - 2)
                let height = row == rows - 1 ? metrics.height : pitch
                let space = row > 0 ? 0 : (p == 0 ? type.blockGap : type.itemGap)
                slabs.append(Slab(height: height, spaceBefore: space, keepWithNext: keep) { left, top in
                    var marks: [Mark] = []
                    if row < keyLines.count { marks += keys.marks(keyLines[row], x: left, baseline: top + metrics.baseline) }
                    if row < valueLines.count {
                        marks += values.marks(valueLines[row], x: left + keyWidth + gap, baseline: top + metrics.baseline)
                    }
                    return marks
                })
            }
        }
        return slabs
    }

    private func figureSlab(_ scene: Scene, caption: String?) -> Slab? {
        let w = scene.size.width, h = scene.size.height
        guard w.isFinite, h.isFinite, w > 0, h > 0 else { return nil }
        // The caption is centred under the figure, as wide as the figure but at least 60 % of the
        // content width. Its height depends on the scale only through that width: fit the width first.
        let captionStyle = theme.text(type.captionSize, color: theme.mutedTextColor)
        func captionLayout(_ scale: Double) -> (text: String, width: Double, height: Double)? {
            guard let caption, !caption.isEmpty else { return nil }
            let captionWidth = min(width, max(w * scale, width * 0.6))
            let text = measurer.wrap(caption, style: captionStyle, maxWidth: captionWidth, breakingLongWords: true)
            return (text, captionWidth, 4 + measurer.measure(text, style: captionStyle).height)
        }
        let widthScale = min(1, width / w)
        // Room for the caption at its narrowest (tallest), so that the figure and caption fit a page.
        let reserved = captionLayout(0)?.height ?? 0
        let scale = min(widthScale, max(contentHeight - headingReserve - reserved, 1) / h)
        let captionText = captionLayout(scale)
        return Slab(height: h * scale + (captionText?.height ?? 0), spaceBefore: type.blockGap + 2) { [width] left, top in
            var marks = [scene.placed(at: Point(x: left + (width - w * scale) / 2, y: top), scale: scale)]
            if let captionText {
                marks.append(.text(TextMark(captionText.text, at: Point(x: left + (width - captionText.width) / 2, y: top + h * scale + 4),
                                            style: captionStyle, vertical: .top)))
            }
            return marks
        }
    }

    /// The table's rows from `start` on, splittable between rows.
    private func tableSlab(_ table: TableData, from start: Int, spaceBefore: Double) -> Slab {
        let m = theme.margin
        /// Rows start..<end as a figure and the scale that fits it in the content area. The figure's
        /// own margin goes into the page margin so that the rules span the content width.
        func part(_ end: Int) -> (scene: Scene, scale: Double, height: Double) {
            var data = table
            data.rows = Array(table.rows[start..<end])
            if start > 0 { data.title = table.title.map { $0 + " (continued)" } }
            if end < table.rows.count { data.caption = nil }
            let scene = TableFigure(data).scene(width: width + 2 * m, theme: theme, measurer: measurer)
            // Wider than asked (TableFigure's last resort): scale to the width. A single row taller
            // than a page (nothing left to split): scale to the page.
            var scale = min(1, (width + 2 * m) / scene.size.width)
            if end - start == 1 { scale = min(scale, contentHeight / max(scene.size.height - 2 * m, 1)) }
            return (scene, scale, (scene.size.height - 2 * m) * scale)
        }
        func slab(_ end: Int) -> Slab {
            let (scene, scale, height) = part(end)
            return Slab(height: height, spaceBefore: spaceBefore) { [width] left, top in
                [scene.placed(at: Point(x: left + (width - (scene.size.width - 2 * m) * scale) / 2 - m * scale, y: top - m * scale), scale: scale)]
            }
        }
        var whole = slab(table.rows.count)
        guard table.rows.count - start > 1 else { return whole }
        whole.minimumHeight = part(start + 1).height
        whole.split = { room in
            // The most rows that fit, leaving at least one for the continuation.
            var best: Int?
            for end in (start + 1)..<table.rows.count {
                if part(end).height <= room + 1e-9 { best = end } else { break }
            }
            guard let end = best else { return nil }
            return (slab(end), tableSlab(table, from: end, spaceBefore: spaceBefore))
        }
        return whole
    }
}
