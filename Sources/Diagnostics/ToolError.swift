/// Every failure tvgeo reports, as a value that carries what a user needs to find the problem:
/// the file, the tensor or line, and what is wrong. It is turned into one line of text and an
/// exit code in one place (the CLI), following the BSD sysexits convention.
public enum ToolError: Error, Equatable, Sendable {
    /// The command line is wrong (unknown option, duplicate task name, nothing to do). Exit 64.
    case usage(String)
    /// An input exists and was read, but its content is wrong. Exit 65.
    /// `location` names the tensor, key or line inside `file` when there is one.
    case invalidData(file: String, location: String?, problem: String)
    /// An input is missing, is a directory where a file was expected, or cannot be read. Exit 66.
    case missingInput(path: String, problem: String)
    /// An output file or folder cannot be created or written. Exit 73.
    case cannotWrite(path: String, problem: String)
    /// A bug or a failure of a library tvgeo relies on (LAPACK info < 0). Exit 70.
    case internalError(String)

    /// The BSD sysexits code for this error.
    public var exitCode: Int32 {
        switch self {
        case .usage: return 64
        case .invalidData: return 65
        case .missingInput: return 66
        case .cannotWrite: return 73
        case .internalError: return 70
        }
    }

    /// One line, without the program name: "file: tensor: problem". Control characters from
    /// the inputs (a tensor name, a CSV field or a path holding a line break or an escape) are
    /// written as escapes, so the message stays one line and cannot drive the terminal.
    public var message: String { Self.escapingControlCharacters(rawMessage) }

    private var rawMessage: String {
        switch self {
        case .usage(let text):
            return text
        case .invalidData(let file, let location, let problem):
            if let location { return "\(file): \(location): \(problem)" }
            return "\(file): \(problem)"
        case .missingInput(let path, let problem):
            return "\(path): \(problem)"
        case .cannotWrite(let path, let problem):
            return "cannot write \(path): \(problem)"
        case .internalError(let text):
            return "internal error: \(text)"
        }
    }
}

extension ToolError {
    /// `\n`, `\r`, `\t` and `\u{…}` for the other control characters (C0, DEL, C1).
    static func escapingControlCharacters(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.properties.generalCategory == .control:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension ToolError: CustomStringConvertible {
    public var description: String { message }
}

/// Something legal but worth a user's attention (an ignored tensor, an undefined distance).
/// Warnings are collected as data and printed and stored in `metrics.json` by the caller.
public struct Warning: Hashable, Sendable, CustomStringConvertible {
    public var text: String
    /// Control characters in `text` (from a tensor name, a config value) are escaped as in
    /// `ToolError.message`, so a warning prints as one line.
    public init(_ text: String) { self.text = ToolError.escapingControlCharacters(text) }
    public var description: String { text }
}
