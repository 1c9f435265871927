/// Small pieces of the messages every layer prints.
public enum Wording {
    /// "1 task", "3 tasks": `count` and the noun, plural with an s unless the count is 1.
    public static func count(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    /// The candidate closest to `word` that `word` is a likely typo of (`isLikelyTypo`) and that
    /// is not `word` itself; nil when there is none.
    public static func closest(to word: String, among candidates: [String]) -> String? {
        candidates.filter { $0 != word && isLikelyTypo(word, of: $0) }
            .min { editDistance($0.lowercased(), word.lowercased()) < editDistance($1.lowercased(), word.lowercased()) }
    }

    /// Whether `word` looks like a typo of `name`: the same but for letter case, or within one
    /// edit when the shorter has 3–4 characters, two when it has 5 or more. Shorter names are never
    /// typos of one another (`ab` is not `cb`), and neither are `rte` and `hate` (two edits), which
    /// a flat limit of two would pair.
    public static func isLikelyTypo(_ word: String, of name: String) -> Bool {
        let shorter = min(word.count, name.count)
        let limit = shorter >= 5 ? 2 : shorter >= 3 ? 1 : 0
        return editDistance(word.lowercased(), name.lowercased()) <= limit
    }

    /// " (did you mean X?)" for the closest candidate, or "". X is shown as `escaped` shows it.
    public static func didYouMean(_ word: String, among candidates: [String]) -> String {
        closest(to: word, among: candidates).map { " (did you mean \(escaped($0))?)" } ?? ""
    }

    /// `text` as the console prints it: control characters written as escapes, as in
    /// `ToolError.message` (`\r`, `\t`, `\u{1b}`), line feeds kept; so that a name printed in a
    /// summary or table cannot move the cursor, recolour or retitle the terminal.
    public static func terminalText(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 != "\n" && $0.properties.generalCategory == .control }) else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { ToolError.escapingControlCharacters(String($0)) }.joined(separator: "\n")
    }

    /// A user-given name (a task, module, metric, subcommand, file) as a message shows it, so that
    /// two names that read the same are told apart: unchanged unless it mixes ASCII letters with
    /// characters outside ASCII (a Cyrillic `е` for `e`, an invisible U+200B, an en dash for a
    /// hyphen); then each non-ASCII scalar is written `\u{XXXX}` (upper-case hex, at least four
    /// digits): `cola+rtе` (Cyrillic е) is shown `cola+rt\u{0435}`. A name with no ASCII letter
    /// (`情感`, `τ₁`) is shown as is. Control characters are left alone here: `ToolError.message`
    /// and `Warning` escape them in the whole line.
    public static func escaped(_ name: String) -> String {
        func isControl(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.generalCategory == .control }
        let scalars = name.unicodeScalars
        guard scalars.contains(where: { $0.isASCII && $0.properties.isAlphabetic }),
              scalars.contains(where: { !$0.isASCII && !isControl($0) }) else { return name }
        var out = ""
        for scalar in scalars {
            if scalar.isASCII || isControl(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u{" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "}"
            }
        }
        return out
    }

    /// `name` in double quotes as `escaped` shows it, a `"` or `\` of the name written `\"` or `\\`
    /// (so a name can neither close the quotes early nor pass for a `\u{…}` escape).
    public static func quoted(_ name: String) -> String {
        var text = ""
        for scalar in name.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { text += "\\" }
            text.unicodeScalars.append(scalar)
        }
        return "\"" + escaped(text) + "\""
    }

    /// The optimal-string-alignment distance between two strings, over characters.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        guard !x.isEmpty else { return y.count }
        guard !y.isEmpty else { return x.count }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }
}
