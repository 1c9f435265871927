/// Natural order of names: runs of decimal digits compare by their value, so `task2` < `task10`
/// (text order puts `task10` first). Other characters compare by Unicode scalar value. Equal
/// under that rule (`task01` and `task1`), the shorter digit run (fewer leading zeros) comes
/// first, then plain scalar order, so the order is total and never depends on input order.
public enum NaturalOrder {
    public static func areInIncreasingOrder(_ a: String, _ b: String) -> Bool {
        compare(a, b) < 0
    }

    /// −1, 0 or 1.
    public static func compare(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        var i = 0, j = 0
        var zeroTie = 0
        while i < x.count, j < y.count {
            if isDigit(x[i]), isDigit(y[j]) {
                let startX = i, startY = j
                while i < x.count, isDigit(x[i]) { i += 1 }
                while j < y.count, isDigit(y[j]) { j += 1 }
                // Compare values without overflow: strip leading zeros, then length, then digits.
                var sx = startX, sy = startY
                while sx < i - 1, x[sx] == "0" { sx += 1 }
                while sy < j - 1, y[sy] == "0" { sy += 1 }
                if i - sx != j - sy { return i - sx < j - sy ? -1 : 1 }
                for (p, q) in zip(x[sx..<i], y[sy..<j]) where p != q { return p.value < q.value ? -1 : 1 }
                if zeroTie == 0, i - startX != j - startY { zeroTie = i - startX < j - startY ? -1 : 1 }
            } else {
                if x[i] != y[j] { return x[i].value < y[j].value ? -1 : 1 }
                i += 1
                j += 1
            }
        }
        if i < x.count || j < y.count { return i < x.count ? 1 : -1 }
        if zeroTie != 0 { return zeroTie }
        return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) ? -1 : (a == b ? 0 : 1)
    }

    public static func sorted(_ names: [String]) -> [String] { names.sorted(by: areInIncreasingOrder) }

    /// Whether `names` are in the order a shell glob or `ls` lists them: ascending by Unicode
    /// scalars, or ascending ignoring case (as in most locales).
    public static func isTextSorted(_ names: [String]) -> Bool {
        func ascending(_ key: (String) -> String) -> Bool {
            zip(names, names.dropFirst()).allSatisfy { !key($1).unicodeScalars.lexicographicallyPrecedes(key($0).unicodeScalars) }
        }
        return ascending { $0 } || ascending { $0.lowercased() }
    }

    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { scalar.value >= 48 && scalar.value <= 57 }
}
