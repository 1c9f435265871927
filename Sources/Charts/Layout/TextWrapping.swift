extension TextMeasurer {
    /// `text` broken into lines ("\n") at spaces so that each line fits `maxWidth`. Existing line
    /// breaks are kept. A single word wider than `maxWidth` is truncated with "…", or, with
    /// `breakingLongWords`, split over several lines (after a "/", "-", "_", "." or similar when one
    /// lies in the second half of what fits, else between any two characters), so that long paths
    /// and hashes stay whole and inside the width. At least one character goes on each line.
    public func wrap(_ text: String, style: TextStyle, maxWidth: Double, breakingLongWords: Bool = false) -> String {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            for word in paragraph.split(separator: " ") {
                let candidate = current.isEmpty ? String(word) : current + " " + word
                if measure(candidate, style: style).width <= maxWidth {
                    current = candidate
                    continue
                }
                if !current.isEmpty { lines.append(current) }
                guard breakingLongWords else {
                    current = truncate(String(word), style: style, maxWidth: maxWidth)
                    continue
                }
                var rest = Array(word)
                while measure(String(rest), style: style).width > maxWidth && rest.count > 1 {
                    let cut = TextMeasurer.breakIndex(in: rest, maxWidth: maxWidth) { measure(String(rest[..<$0]), style: style).width }
                    lines.append(String(rest[..<cut]))
                    rest.removeFirst(cut)
                }
                current = String(rest)
            }
            lines.append(current)
        }
        return lines.joined(separator: "\n")
    }

    /// Where to break a word too wide for `maxWidth`: the length (1..<characters.count) of the
    /// first line. `width(k)` is the width of the first k characters.
    static func breakIndex(in characters: [Character], maxWidth: Double, width: (Int) -> Double) -> Int {
        guard characters.count > 1 else { return characters.count }
        var low = 1, high = characters.count  // the longest fitting prefix lies in low..<high
        while high - low > 1 {
            let mid = (low + high) / 2
            if width(mid) <= maxWidth { low = mid } else { high = mid }
        }
        let separators: Set<Character> = ["/", "\\", "-", "_", ".", ":", ",", ";", "=", "+", "|", "–", "—"]
        var k = low
        while k > low / 2 && k > 1 && !separators.contains(characters[k - 1]) { k -= 1 }
        return k > low / 2 && separators.contains(characters[k - 1]) ? k : low
    }
}

/// Title and subtitle at the top of a figure, left-aligned and wrapped to the width.
enum TitleBlock {
    /// Marks for the block whose top-left corner is (x, y); `height` includes the gap below it
    /// (0 when there is neither title nor subtitle).
    static func layout(title: String?, subtitle: String?, x: Double, y: Double, width: Double,
                       theme: Theme, measurer: TextMeasurer) -> (marks: [Mark], height: Double) {
        var marks: [Mark] = []
        var cursor = y
        if let title, !title.isEmpty {
            let style = theme.text(theme.titleSize, weight: .bold)
            let text = measurer.wrap(title, style: style, maxWidth: width)
            marks.append(.text(TextMark(text, at: Point(x: x, y: cursor), style: style, vertical: .top)))
            cursor += measurer.measure(text, style: style).height + 1
        }
        if let subtitle, !subtitle.isEmpty {
            let style = theme.text(theme.subtitleSize, color: theme.mutedTextColor)
            let text = measurer.wrap(subtitle, style: style, maxWidth: width)
            marks.append(.text(TextMark(text, at: Point(x: x, y: cursor), style: style, vertical: .top)))
            cursor += measurer.measure(text, style: style).height
        }
        return (marks, marks.isEmpty ? 0 : cursor - y + 6)
    }
}

extension Scene {
    /// A scene `width` wide that starts with the title block at the theme's margin, and the y
    /// where the chart's content starts below it.
    static func titled(_ title: String?, subtitle: String?, width: Double, theme: Theme,
                       measurer: TextMeasurer) -> (scene: Scene, top: Double) {
        let m = theme.margin
        var scene = Scene(size: Size(width: width, height: 0), title: title)
        let titleBlock = TitleBlock.layout(title: title, subtitle: subtitle, x: m, y: m, width: width - 2 * m,
                                           theme: theme, measurer: measurer)
        scene.add(titleBlock.marks)
        return (scene, m + titleBlock.height)
    }
}
