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

    /// " (did you mean X?)" for the closest candidate, or "".
    public static func didYouMean(_ word: String, among candidates: [String]) -> String {
        closest(to: word, among: candidates).map { " (did you mean \($0)?)" } ?? ""
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
