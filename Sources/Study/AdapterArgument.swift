import Diagnostics
import TensorIO

/// An adapter named on the command line: `path` or `name=path`.
public struct AdapterArgument: Equatable, Sendable {
    public var task: String
    public var path: String

    public init(task: String, path: String) {
        self.task = task
        self.path = path
    }

    /// An existing path as given; otherwise `name=path`, split at the last `=` after which an
    /// existing path follows (so a name may hold `=` or `/`), or else at the first `=` when the text
    /// before it has no `/` (the path is then reported missing later). Anything else is a path
    /// whose task name is its folder name or file stem.
    public init(parsing text: String) {
        if case .missing = FileKind.of(text) {
            var end = text.endIndex
            while let equals = text[..<end].lastIndex(of: "=") {
                let rest = String(text[text.index(after: equals)...])
                if equals != text.startIndex, !rest.isEmpty, Self.exists(rest) {
                    task = String(text[..<equals])
                    path = rest
                    return
                }
                end = equals
            }
            if let (name, rest) = Self.splitName(text) {
                task = name
                path = rest
                return
            }
        }
        path = text
        task = Self.taskName(forPath: text)
    }

    static func exists(_ path: String) -> Bool {
        if case .missing = FileKind.of(path) { return false }
        return true
    }

    /// "name=path" as (name, path) when the text before the first `=` is non-empty and has no `/`;
    /// nil otherwise. Does not look at the file system.
    public static func splitName(_ text: String) -> (String, String)? {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex, !text[..<equals].contains("/") else { return nil }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }

    /// The folder name, or the file name without `.safetensors`; for
    /// `…/task/adapter_model.safetensors` the folder's name.
    public static func taskName(forPath path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        var components = trimmed.split(separator: "/").map(String.init)
        guard var last = components.popLast() else { return path }
        if last == "adapter_model.safetensors", let folder = components.last { return folder }
        if last.hasSuffix(".safetensors") { last.removeLast(".safetensors".count) }
        return last
    }

    /// The order of the study's tasks: as given, unless the names come in text order (what a shell
    /// glob such as `lib/task*` or `ls` produces, where `task10` precedes `task2`), which is no
    /// choice of the user: those are put in natural order (`NaturalOrder`). Any other order is kept.
    public static func inStudyOrder(_ arguments: [AdapterArgument]) -> [AdapterArgument] {
        let names = arguments.map(\.task)
        guard NaturalOrder.isTextSorted(names) else { return arguments }
        return arguments.sorted { NaturalOrder.areInIncreasingOrder($0.task, $1.task) }
    }

    /// Refuses two adapters with one task name (exit 64), naming both paths.
    public static func checkUnique(_ arguments: [AdapterArgument]) throws(ToolError) {
        var seen: [String: String] = [:]
        for argument in arguments {
            if let other = seen[argument.task] {
                throw .usage("task name \(Wording.quoted(argument.task)) is given twice (\(other) and \(argument.path)); name them with name=path")
            }
            seen[argument.task] = argument.path
        }
        guard !arguments.isEmpty else { throw .usage("no adapters given") }
    }

    /// A study name from the adapters' common parent folder (skipping generic names such as
    /// `adapters`), or "study".
    public static func defaultStudyName(_ arguments: [AdapterArgument]) -> String {
        let generic: Set<String> = ["adapters", "adapter", "checkpoints", "models", "lora", ".", ".."]
        let parents = arguments.map { argument -> [String] in
            var components = argument.path.split(separator: "/").map(String.init)
            // Drop the adapter itself (and the folder of a `…/task/adapter_model.safetensors`).
            let dropped = argument.path.hasSuffix("adapter_model.safetensors") ? 2 : 1
            components.removeLast(min(dropped, components.count))
            return components
        }
        guard let first = parents.first else { return "study" }
        var common = first
        for parent in parents.dropFirst() {
            common = Array(zip(common, parent).prefix { $0 == $1 }.map(\.0))
        }
        while let last = common.last, generic.contains(last) { common.removeLast() }
        return common.last ?? "study"
    }
}
