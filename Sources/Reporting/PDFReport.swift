import Charts
import Diagnostics
import Foundation

/// The report as a multi-page A4 PDF: the document value walked into the chart kit's paged
/// blocks (title page with the summary, then one section per page or more), drawn by Cairo with
/// fonts embedded and figures as vectors.
public enum PDFReport {
    public static func render(_ document: ReportDocument) throws(ToolError) -> Data {
        // The pages take the style's font family; their sizes stay the document typography's.
        let theme = Theme.paper.styled(fontFamily: document.style.fontFamily, baseSize: Theme.paper.tickLabelSize)
        var layout = PagedDocument(blocks: [], footer: document.title, title: document.title, theme: theme)
        layout.blocks = blocks(document, contentWidth: layout.contentWidth)
        let pages = layout.pages()
        do {
            return try CairoRenderer().renderPDF(pages: pages, title: document.title)
        } catch {
            throw .internalError("drawing report.pdf: \(error)")
        }
    }

    /// The document as paged blocks; numbers figures and tables as they come.
    static func blocks(_ document: ReportDocument, contentWidth: Double) -> [DocumentBlock] {
        var blocks: [DocumentBlock] = [.title(document.title, subtitle: document.subtitle)]
        var figureNumber = 0, tableNumber = 0
        for (index, section) in document.sections.enumerated() {
            blocks.append(.heading(section.title, newPage: index > 0 && section.startsPage))
            for block in section.blocks {
                switch block {
                case .subheading(let text):
                    blocks.append(.subheading(text))
                case .paragraph(let text):
                    blocks.append(.paragraph(text))
                case .bullets(let items):
                    blocks.append(.bullets(items))
                case .keyValues(let pairs):
                    blocks.append(.keyValues(pairs))
                case .figures(let names):
                    // Narrow figures share a row (the row is scaled down a little if it must).
                    for row in rows(names.compactMap(document.figure(named:)), width: contentWidth) {
                        let numbers = row.indices.map { figureNumber + 1 + $0 }
                        figureNumber += row.count
                        let caption: String
                        if row.count == 1 {
                            caption = "Figure \(numbers[0]). \(row[0].caption)"
                        } else {
                            let sides = row.count == 2 ? ["left", "right"] : row.indices.map { "\($0 + 1) from the left" }
                            caption = zip(numbers, zip(sides, row)).map { "Figure \($0) (\($1.0)). \($1.1.caption)" }.joined(separator: " ")
                        }
                        blocks.append(.figure(sideBySide(row.map(\.scene)), caption: caption))
                    }
                case .table(let name):
                    guard let table = document.table(named: name) else { continue }
                    tableNumber += 1
                    var data = table.data
                    data.title = "Table \(tableNumber). " + (data.title ?? table.name)
                    let caption = [data.caption, table.notes].compactMap { $0 }.joined(separator: " ")
                    data.caption = nil
                    blocks.append(.table(data, caption: caption.isEmpty ? nil : caption))
                case .definitions(let items):
                    for item in items {
                        blocks.append(.paragraph([TextRun.bold(item.name + ". "), TextRun(item.formula)]))
                        blocks.append(.paragraph(item.text))
                    }
                }
            }
        }
        return blocks
    }

    /// Groups figures into rows whose widths (with gaps) stay within 1.1 × the content width.
    static func rows(_ figures: [ReportFigure], width: Double, gap: Double = 12) -> [[ReportFigure]] {
        var rows: [[ReportFigure]] = []
        var current: [ReportFigure] = []
        var used = 0.0
        for figure in figures {
            let needed = (current.isEmpty ? 0 : used + gap) + figure.scene.size.width
            if !current.isEmpty && needed > width * 1.1 {
                rows.append(current)
                current = []
                used = 0
            }
            used = (current.isEmpty ? 0 : used + gap) + figure.scene.size.width
            current.append(figure)
        }
        if !current.isEmpty { rows.append(current) }
        return rows
    }

    /// One scene holding the given scenes left to right, tops aligned.
    static func sideBySide(_ scenes: [Scene], gap: Double = 12) -> Scene {
        guard scenes.count > 1 else { return scenes[0] }
        let width = scenes.map(\.size.width).reduce(0, +) + gap * Double(scenes.count - 1)
        let height = scenes.map(\.size.height).max() ?? 0
        var row = Scene(size: Size(width: width, height: height), title: scenes.compactMap(\.title).joined(separator: " | "))
        var x = 0.0
        for scene in scenes {
            row.add(scene.placed(at: Point(x: x, y: 0)))
            x += scene.size.width + gap
        }
        return row
    }
}
