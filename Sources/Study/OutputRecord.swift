import Diagnostics
import Foundation
import JSONText
import TensorIO

/// What an output folder's marker (`.tvgeo-output`) records: every file tvgeo wrote there, with
/// its size and modification time as tvgeo left it. A rerun replaces exactly these files (when
/// unchanged) and keeps every other file of the folder: a user's notes, an edited figure.
///
/// The marker is JSON: `{"written_by": "tvgeo 0.1.0", "note": …, "files": [[path, bytes,
/// modified_ns], …]}`, paths relative to the folder, `/`-separated. Markers of tvgeo 0.1 hold one
/// line of text and no list; for them `OutputRecord.ownsLegacy` recognises tvgeo's file names.
struct OutputRecord: Equatable {
    /// One file as tvgeo left it.
    struct Entry: Equatable {
        var bytes: Int64
        /// Modification time in nanoseconds since 1970.
        var modified: Int64
    }

    var files: [String: Entry]

    /// The record of `folder`'s marker; nil when the marker is missing, unreadable or of tvgeo 0.1.
    static func read(folder: String) -> OutputRecord? {
        guard let bytes = try? readWholeFile(folder + "/" + OutputFolder.marker, limit: 64 << 20),
              let json = try? JSONParser.parse(bytes), let list = json["files"]?.arrayValue else { return nil }
        var files: [String: Entry] = [:]
        for item in list {
            guard let fields = item.arrayValue, fields.count == 3, let path = fields[0].stringValue,
                  let bytes = fields[1].intValue, let modified = fields[2].intValue else { return nil }
            files[path] = Entry(bytes: Int64(bytes), modified: Int64(modified))
        }
        return OutputRecord(files: files)
    }

    /// The marker's text for `files` (path and how the file is now), in path order.
    static func markerText(files: [(path: String, entry: Entry)]) -> String {
        let files: [JSONValue] = files.sorted { $0.path < $1.path }.map { file in
            .array([.string(file.path), .int(Int(file.entry.bytes)), .int(Int(file.entry.modified))])
        }
        return JSONWriter.string(.object([
            ("written_by", .string("tvgeo \(ToolInfo.version)")),
            ("note", .string("tvgeo replaces the files listed here when it writes into this folder again, "
                             + "unless they were changed since; every other file in the folder is kept")),
            ("files", .array(files)),
        ])) + "\n"
    }

    /// Size and modification time from a file's `lstat` information.
    static func entry(_ info: stat) -> Entry {
        #if canImport(Darwin)
        let time = info.st_mtimespec
        #else
        let time = info.st_mtim
        #endif
        return Entry(bytes: Int64(info.st_size), modified: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }

    /// For a marker of tvgeo 0.1 (no list): whether a file is one tvgeo writes, by its name.
    static func ownsLegacy(_ path: String) -> Bool {
        let components = path.split(separator: "/")
        guard let name = components.last.map(String.init) else { return false }
        if let first = components.first, components.count > 1, first == "figures" || first == "tables" { return true }
        if name.hasPrefix("distances-") && name.hasSuffix(".csv") { return true }
        return ["metrics.json", "report.html", "report.pdf", "manifest.json", "manifest.csv", OutputFolder.marker,
                "adapter_config.json", "adapter_model.safetensors", "tvgeo-merge.json"].contains(name)
    }
}

/// Entries of a folder tree, read with lstat (symbolic links are not followed).
enum FolderTree {
    enum Kind: Equatable {
        /// A regular file, with its size and modification time from the same lstat.
        case file(OutputRecord.Entry)
        case directory, link, other
    }

    /// Every entry under `root` as (path relative to `root`, kind), parents before children.
    static func walk(_ root: String) -> [(path: String, kind: Kind)] {
        var found: [(String, Kind)] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let folder = relative.isEmpty ? root : root + "/" + relative
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for name in names.sorted() {
                let path = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(root + "/" + path, &info) == 0 else { continue }
                let kind: Kind
                switch info.st_mode & S_IFMT {
                case S_IFREG: kind = .file(OutputRecord.entry(info))
                case S_IFDIR: kind = .directory
                case S_IFLNK: kind = .link
                default: kind = .other
                }
                found.append((path, kind))
                if kind == .directory { pending.append(path) }
            }
        }
        return found
    }
}
