import Foundation

extension TextMeasurer {
    /// The characters after which a common prefix may be cut (and before which a common suffix
    /// may start): what usually separates the words of a run or task name.
    static let labelSeparators: Set<Character> = ["_", "-", ".", "/", " ", ":", "+", "=", ",", "|"]

    /// `text` when it fits `maxWidth`; otherwise its first and last characters with "…" between
    /// them, as many as fit, the end favoured (the end of a run name, `epoch3`, `seed2`, is
    /// usually what tells it from its neighbours). At least `minimumTail` characters of the end are
    /// kept even when they do not fit (then the result is wider than `maxWidth`), so that a caller
    /// can keep a distinguishing ending. Never cuts inside a grapheme cluster.
    public func shortenMiddle(_ text: String, style: TextStyle, maxWidth: Double, minimumTail: Int = 0) -> String {
        if measure(text, style: style).width <= maxWidth { return text }
        let characters = Array(text)
        let floorTail = min(minimumTail, characters.count)
        func candidate(_ kept: Int) -> String {
            let tail = min(characters.count, max(floorTail, (kept + 1) / 2))
            let head = max(0, min(kept - tail, characters.count - tail))
            let start = String(characters[..<head]).trimmingCharacters(in: .whitespaces)
            let end = String(characters[(characters.count - tail)...]).trimmingCharacters(in: .whitespaces)
            return start + "…" + end
        }
        var low = floorTail, high = characters.count  // the longest fitting kept count lies in low..<high
        while high - low > 1 {
            let mid = (low + high) / 2
            if measure(candidate(mid), style: style).width <= maxWidth { low = mid } else { high = mid }
        }
        return candidate(low)
    }

    /// Labels for `names` that each fit `maxWidth` where possible and are pairwise different whenever
    /// the names are (equal names keep equal labels), in the order given.
    ///
    /// Names that all fit are returned unchanged. Otherwise the prefix every name shares, up to and
    /// including its last separator (`_`, `-`, `.`, `/`, space, …), is replaced by "…", and likewise
    /// a shared suffix from its first separator on (`run_alpha_epoch1`, `run_alpha_epoch2` →
    /// `…epoch1`, `…epoch2`); a name that does not fit then is shortened in the middle
    /// (`shortenMiddle`). Names whose labels still coincide keep one more character of their end
    /// than they share with the others (even past `maxWidth`), and any label still equal to an
    /// earlier one gets " (2)", " (3)", ….
    public func distinctLabels(_ names: [String], style: TextStyle, maxWidth: Double) -> [String] {
        let fits = names.allSatisfy { measure($0, style: style).width <= maxWidth }
        if fits { return names }
        var cores = names.map { Array($0) }
        var lead = "", trail = ""
        if !fits && names.count >= 2 {
            let prefix = Self.sharedPrefixLength(cores)
            if prefix > 0 {
                cores = cores.map { Array($0[prefix...]) }
                lead = "…"
            }
            let suffix = Self.sharedPrefixLength(cores.map { $0.reversed() })
            if suffix > 0 {
                cores = cores.map { Array($0[..<($0.count - suffix)]) }
                trail = "…"
            }
        }
        func label(_ core: [Character], minimumTail: Int = 0) -> String {
            let room = maxWidth - measure(lead + trail, style: style).width
            var body = shortenMiddle(String(core), style: style, maxWidth: room, minimumTail: minimumTail)
            if !lead.isEmpty && body.hasPrefix("…") { body.removeFirst() }
            return lead + body + trail
        }
        var labels = cores.map { label($0) }
        // Names whose labels coincide: keep more of their ends than they share pairwise.
        for indices in Dictionary(grouping: labels.indices, by: { labels[$0] }).values where indices.count > 1 {
            var shared = 0
            for a in indices {
                for b in indices where b > a && names[a] != names[b] {
                    shared = max(shared, Self.sharedPrefixLength([cores[a].reversed(), cores[b].reversed()], atSeparator: false))
                }
            }
            for i in indices { labels[i] = label(cores[i], minimumTail: shared + 1) }
        }
        // Whatever still coincides (a name written like another's label): numbered, in order of the
        // names; equal names keep equal labels.
        var owners: [String: [String]] = [:]
        for (label, name) in zip(labels, names) where !(owners[label]?.contains(name) ?? false) { owners[label, default: []].append(name) }
        var used = Set(labels)
        var renamed: [String: String] = [:]
        for i in labels.indices {
            let rank = owners[labels[i]]!.firstIndex(of: names[i])!
            guard rank > 0 else { continue }
            let key = labels[i] + "\u{0}" + names[i]
            if let done = renamed[key] {
                labels[i] = done
                continue
            }
            var k = rank + 1
            while used.contains("\(labels[i]) (\(k))") { k += 1 }
            let numbered = "\(labels[i]) (\(k))"
            used.insert(numbered)
            renamed[key] = numbered
            labels[i] = numbered
        }
        return labels
    }

    /// The length of the prefix every sequence shares, cut back to end just after a separator
    /// (`atSeparator`) so that no word is split, and so that every sequence keeps at least one
    /// character. Read backwards, the same gives a shared suffix from a separator on.
    static func sharedPrefixLength(_ sequences: [[Character]], atSeparator: Bool = true) -> Int {
        guard let first = sequences.first, sequences.count >= 2 else { return 0 }
        var length = 0
        let shortest = sequences.map(\.count).min() ?? 0
        while length < shortest && sequences.allSatisfy({ $0[length] == first[length] }) { length += 1 }
        guard atSeparator else { return length }
        length = max(0, min(length, shortest - 1))
        while length > 0 && !labelSeparators.contains(first[length - 1]) { length -= 1 }
        return length
    }
}
