import Foundation

/// Number formatting for tick labels, cell annotations and tables. Output never depends on the
/// process locale: the decimal separator is ".", and negative numbers use the typographic minus
/// sign "−" (U+2212) unless `asciiMinus` is set.
public enum NumberFormat {
    /// `value` with exactly `decimals` digits after the point (0...12). −0 prints as 0; NaN prints
    /// as "NaN", ±∞ as "∞" and "−∞".
    public static func fixed(_ value: Double, decimals: Int, asciiMinus: Bool = false) -> String {
        let minus = asciiMinus ? "-" : "\u{2212}"
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? minus + "∞" : "∞" }
        let places = min(max(decimals, 0), 12)
        var text = String(format: "%.\(places)f", value)
        if text.hasPrefix("-") {
            // "-0.00" after rounding is zero: drop the sign.
            if text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) {
                text.removeFirst()
            } else if !asciiMinus {
                text = minus + text.dropFirst()
            }
        }
        return text
    }

    /// A fraction as a percentage with one decimal and a space before the sign: 0.623 → "62.3 %".
    public static func percent(_ fraction: Double, decimals: Int = 1) -> String {
        fixed(fraction * 100, decimals: decimals) + " %"
    }

    /// `mantissa×10ⁿ` with superscript digits, e.g. 2.5e-5 with 1 decimal → "2.5×10⁻⁵"; 0 → "0".
    public static func scientific(_ value: Double, decimals: Int, asciiMinus: Bool = false) -> String {
        guard value.isFinite else { return fixed(value, decimals: decimals, asciiMinus: asciiMinus) }
        if value == 0 { return "0" }
        var exponent = Int(log10(abs(value)).rounded(.down))
        var mantissa = value / pow(10, Double(exponent))
        // Rounding may carry the mantissa to 10 (9.96 → "10.0"): renormalise.
        if abs((mantissa * pow(10, Double(decimals))).rounded()) >= 10 * pow(10, Double(decimals)) {
            exponent += 1
            mantissa = value / pow(10, Double(exponent))
        }
        return fixed(mantissa, decimals: decimals, asciiMinus: asciiMinus) + "×10" + superscript(exponent)
    }

    /// Superscript digits and sign for an integer.
    static func superscript(_ n: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let body = String(String(abs(n)).map { digits[Int(String($0))!] })
        return (n < 0 ? "⁻" : "") + body
    }
}
