/// A piece of running text with one emphasis, for paragraphs and bullets with bold or italic
/// words. Runs are joined as written: `["ρ = ", .bold("0.48"), ", n = 28"]` reads "ρ = 0.48, n = 28".
/// Spaces and "\n" (a forced line break) may fall anywhere, inside or between runs.
public struct TextRun: Hashable, Sendable, ExpressibleByStringLiteral {
    public var text: String
    public var emphasis: TableData.Emphasis

    public init(_ text: String, emphasis: TableData.Emphasis = []) {
        self.text = text
        self.emphasis = emphasis
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public static func bold(_ text: String) -> TextRun { TextRun(text, emphasis: .bold) }
    public static func italic(_ text: String) -> TextRun { TextRun(text, emphasis: .italic) }
}
