/// Breaks runs of differently emphasised text into lines of a given width, measuring every piece
/// with the `TextMeasurer`. Lines break at spaces; a word wider than the line is split between
/// characters (preferring after "/", "-", "_", "." …), so long paths and hashes never overflow.
struct RichTextLayout {
    /// Text of one style on one line, starting `x` points from the line's start.
    struct Segment: Hashable {
        var text: String
        var style: TextStyle
        var x: Double
    }

    struct Line: Hashable {
        var segments: [Segment]
        var width: Double
    }

    /// One word's text in one emphasis; a word may hold several ("0.48" bold then "," plain).
    private struct Piece: Hashable {
        var text: String
        var emphasis: TableData.Emphasis
    }

    private typealias Word = [Piece]

    let style: TextStyle
    let measurer: TextMeasurer

    /// The base style with the run's emphasis added (a bold base stays bold).
    func style(for emphasis: TableData.Emphasis) -> TextStyle {
        style.with(weight: emphasis.contains(.bold) ? .bold : style.weight, italic: style.italic || emphasis.contains(.italic))
    }

    /// Height of one line and the distance from its top to the baseline, for every emphasis used.
    var lineMetrics: (height: Double, baseline: Double) {
        let variants: [TableData.Emphasis] = [[], .bold, .italic, [.bold, .italic]]
        let metrics = variants.map { measurer.measure("Ag", style: style(for: $0)) }
        return (metrics.map(\.height).max() ?? 0, metrics.map(\.baseline).max() ?? 0)
    }

    /// The lines of `runs` no wider than `maxWidth` (a single character may be wider). Empty text
    /// gives no lines; "\n" forces a break and "\n\n" leaves an empty line.
    func lines(_ runs: [TextRun], maxWidth: Double) -> [Line] {
        var result: [Line] = []
        for paragraph in paragraphs(runs) {
            var current: [Word] = []
            for word in paragraph {
                if current.isEmpty || layout(current + [word]).width <= maxWidth {
                    current.append(word)
                } else {
                    result.append(layout(current))
                    current = [word]
                }
                // A word alone too wide: split it, keeping the rest as the start of the next line.
                while current.count == 1, layout(current).width > maxWidth, characterCount(current[0]) > 1 {
                    let (head, tail) = split(current[0], maxWidth: maxWidth)
                    result.append(layout([head]))
                    current = [tail]
                }
            }
            result.append(layout(current))
        }
        if result.count == 1 && result[0].segments.isEmpty { return [] }
        return result
    }

    /// Marks for `line` with its start at `x` and its baseline at `baseline`.
    func marks(_ line: Line, x: Double, baseline: Double) -> [Mark] {
        line.segments.map { .text(TextMark($0.text, at: Point(x: x + $0.x, y: baseline), style: $0.style)) }
    }

    /// Words of each forced line (split at "\n"), each word a list of pieces.
    private func paragraphs(_ runs: [TextRun]) -> [[Word]] {
        var paragraphs: [[Word]] = [[]]
        var word: Word = []
        func endWord() {
            if !word.isEmpty { paragraphs[paragraphs.count - 1].append(word) }
            word = []
        }
        for run in runs {
            for character in run.text {
                if character == "\n" {
                    endWord()
                    paragraphs.append([])
                } else if character == " " || character == "\t" {
                    endWord()
                } else if let last = word.last, last.emphasis == run.emphasis {
                    word[word.count - 1].text.append(character)
                } else {
                    word.append(Piece(text: String(character), emphasis: run.emphasis))
                }
            }
        }
        endWord()
        return paragraphs
    }

    /// Positions the words of one line: pieces of the same emphasis are merged into one segment
    /// (measured whole, so kerning is as drawn); words are one space apart.
    private func layout(_ words: [Word]) -> Line {
        var merged: [(text: String, emphasis: TableData.Emphasis, spaceBefore: Bool)] = []
        for (w, word) in words.enumerated() {
            for (p, piece) in word.enumerated() {
                let startsWord = p == 0 && w > 0
                if let last = merged.last, last.emphasis == piece.emphasis {
                    merged[merged.count - 1].text += (startsWord ? " " : "") + piece.text
                } else {
                    merged.append((piece.text, piece.emphasis, startsWord))
                }
            }
        }
        var segments: [Segment] = []
        var x = 0.0
        for part in merged {
            let partStyle = style(for: part.emphasis)
            if part.spaceBefore { x += measurer.measure(" ", style: style).width }
            segments.append(Segment(text: part.text, style: partStyle, x: x))
            x += measurer.measure(part.text, style: partStyle).width
        }
        return Line(segments: segments, width: x)
    }

    private func characterCount(_ word: Word) -> Int { word.reduce(0) { $0 + $1.text.count } }

    /// The first characters of `word` that fit `maxWidth` (at least one) and the rest.
    private func split(_ word: Word, maxWidth: Double) -> (Word, Word) {
        let characters = word.flatMap { piece in piece.text.map { (character: $0, emphasis: piece.emphasis) } }
        func pieces(_ slice: ArraySlice<(character: Character, emphasis: TableData.Emphasis)>) -> Word {
            var result: Word = []
            for item in slice {
                if let last = result.last, last.emphasis == item.emphasis {
                    result[result.count - 1].text.append(item.character)
                } else {
                    result.append(Piece(text: String(item.character), emphasis: item.emphasis))
                }
            }
            return result
        }
        let cut = TextMeasurer.breakIndex(in: characters.map(\.character), maxWidth: maxWidth) {
            layout([pieces(characters[..<$0])]).width
        }
        return (pieces(characters[..<cut]), pieces(characters[cut...]))
    }
}
