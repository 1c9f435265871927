import Diagnostics
import Foundation
import TensorIO

/// One file of an output folder: a path relative to the folder and its bytes.
public struct OutputFile: Sendable {
    public var path: String
    public var contents: Data

    public init(_ path: String, _ contents: Data) {
        self.path = path
        self.contents = contents
    }

    public init(_ path: String, text: String) {
        self.init(path, Data(text.utf8))
    }
}

/// Writes a set of files as one folder, all or nothing: the files go into a hidden temporary
/// folder beside the target, which is renamed into place only when every file is written.
/// An earlier tvgeo output at the target is replaced; any other existing folder or file is
/// left alone and reported (exit 73), so nothing a user had is overwritten silently.
public enum OutputFolder {
    /// The marker file that identifies a folder tvgeo wrote.
    public static let marker = ".tvgeo-output"

    public static func write(_ files: [OutputFile], to target: String) throws(ToolError) {
        try writeFolder(at: target) { staging throws(ToolError) in
            for file in files {
                let url = URL(fileURLWithPath: staging + "/" + file.path)
                do {
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try file.contents.write(to: url)
                } catch {
                    throw .cannotWrite(path: trim(target) + "/" + file.path, problem: describe(error))
                }
            }
        }
    }

    /// Refuses a target that is a file, or a non-empty folder without the marker (exit 73), so a
    /// command can check before doing any work.
    public static func checkTarget(_ target: String) throws(ToolError) {
        let trimmed = trim(target)
        switch FileKind.of(trimmed) {
        case .regular, .special:
            throw .cannotWrite(path: trimmed, problem: "a file with this name exists; choose another --out")
        case .directory:
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: trimmed)) ?? []
            if !contents.isEmpty && !contents.contains(marker) {
                throw .cannotWrite(path: trimmed, problem: "the folder exists and is not a tvgeo output (no \(marker)); choose another --out or remove it")
            }
        case .missing:
            break
        }
    }

    /// Builds a folder all or nothing: `fill` writes into a hidden staging folder beside `target`
    /// (which already holds the marker), then the staging folder replaces `target`. On failure
    /// the staging folder is removed and an earlier output stays as it was.
    public static func writeFolder(at target: String, fill: (String) throws(ToolError) -> Void) throws(ToolError) {
        try checkTarget(target)
        let manager = FileManager.default
        let trimmed = trim(target)
        let url = URL(fileURLWithPath: trimmed)
        let parent = url.deletingLastPathComponent().path
        let pid = ProcessInfo.processInfo.processIdentifier
        let staging = parent + "/.\(url.lastPathComponent).tvgeo-tmp-\(pid)"
        let previous = parent + "/.\(url.lastPathComponent).tvgeo-old-\(pid)"
        do {
            try manager.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: parent, problem: "cannot create the folder (\(describe(error)))")
        }
        try? manager.removeItem(atPath: staging)
        do {
            try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
            try Data("written by tvgeo \(ToolInfo.version); tvgeo replaces this folder when it writes here again\n".utf8)
                .write(to: URL(fileURLWithPath: staging + "/" + marker))
        } catch {
            try? manager.removeItem(atPath: staging)
            throw .cannotWrite(path: trimmed, problem: describe(error))
        }
        do {
            try fill(staging)
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
        let hadPrevious = FileKind.of(trimmed) == .directory
        if hadPrevious, rename(trimmed, previous) != 0 {
            let problem = String(cString: strerror(errno))
            try? manager.removeItem(atPath: staging)
            throw .cannotWrite(path: trimmed, problem: "cannot move the previous output aside (\(problem))")
        }
        if rename(staging, trimmed) != 0 {
            let problem = String(cString: strerror(errno))
            if hadPrevious { _ = rename(previous, trimmed) }
            try? manager.removeItem(atPath: staging)
            throw .cannotWrite(path: trimmed, problem: problem)
        }
        if hadPrevious { try? manager.removeItem(atPath: previous) }
    }

    static func trim(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    static func describe(_ error: Error) -> String {
        let text = (error as NSError).localizedDescription
        return text.isEmpty ? "\(error)" : text
    }
}
