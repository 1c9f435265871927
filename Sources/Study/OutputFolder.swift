import CSystem
import Diagnostics
import Foundation
import TensorIO

/// One file of an output folder: a path relative to the folder and its bytes, held in memory
/// (`contents`) or produced while the file is written (`stream`, for files too large to build
/// twice, such as `layers.safetensors`).
public struct OutputFile: Sendable {
    public var path: String
    /// The bytes; empty when `stream` produces them.
    public var contents: Data
    public var stream: OutputStreamSource?

    public init(_ path: String, _ contents: Data) {
        self.path = path
        self.contents = contents
    }

    public init(_ path: String, text: String) {
        self.init(path, Data(text.utf8))
    }

    public init(_ path: String, stream: OutputStreamSource) {
        self.path = path
        self.contents = Data()
        self.stream = stream
    }

    /// The same file at another path (its contents or stream kept).
    public func moved(to path: String) -> OutputFile {
        var copy = self
        copy.path = path
        return copy
    }

    /// The file's size in bytes.
    public var byteCount: Int { stream?.byteCount ?? contents.count }
}

/// Bytes produced in pieces when a file is written: `produce` hands each piece to its sink in
/// order, stopping early when the sink returns false (the write failed); the pieces add up to
/// `byteCount` bytes, which the writer checks.
public struct OutputStreamSource: Sendable {
    public var byteCount: Int
    public var produce: @Sendable (_ sink: (UnsafeRawBufferPointer) -> Bool) -> Void

    public init(byteCount: Int, produce: @escaping @Sendable (_ sink: (UnsafeRawBufferPointer) -> Bool) -> Void) {
        self.byteCount = byteCount
        self.produce = produce
    }
}

/// Writes a set of files as one folder, all or nothing: the files go into a hidden temporary
/// folder beside the target, which is renamed into place only when every file is written.
/// An earlier tvgeo output at the target is replaced, but only the files tvgeo wrote there
/// (listed in its marker): every other file, such as a user's notes, is carried into the new
/// folder, and a file that would be replaced although tvgeo did not write it (or it was changed
/// since) stops the run (exit 73) unless `force`. Any other existing folder or file is left alone
/// and reported (exit 73), so nothing a user had is overwritten silently.
public enum OutputFolder {
    /// The marker file that identifies a folder tvgeo wrote, and lists what it wrote there.
    public static let marker = ".tvgeo-output"

    /// Writes `files` as the folder `target` (see the type's description).
    ///
    /// With `force`, a non-empty folder that tvgeo did not write is accepted, and then only the
    /// files named in `files` are replaced in it, each written to a temporary file beside it and
    /// renamed over it; nothing else in the folder is touched, and no marker is added (so a later
    /// run never replaces the whole folder). In an earlier tvgeo output, `force` lets the new files
    /// replace files of the same name that tvgeo did not write or that were changed since.
    public static func write(_ files: [OutputFile], to target: String, force: Bool = false) throws(ToolError) {
        if force, case .foreign = try checkTarget(target, force: true) {
            try replaceFiles(files, in: trim(target))
            return
        }
        try writeFolder(at: target, force: force) { staging throws(ToolError) in
            try writeFiles(files, into: staging, reportedAs: target)
        }
    }

    /// Writes one file at `path` (beside other files, in any folder) by a temporary file and a
    /// rename, so the path holds the old file or the whole new one. An existing file is replaced
    /// only with `force` (exit 73 otherwise, naming it); a folder at `path` is never replaced.
    public static func writeFile(_ file: OutputFile, to path: String, force: Bool) throws(ToolError) {
        let url = URL(fileURLWithPath: path)
        try checkFileTarget(path, force: force)
        try replaceFiles([file.moved(to: url.lastPathComponent)], in: url.deletingLastPathComponent().path)
    }

    /// Refuses a file path that is a folder, or an existing file unless `force` (exit 73), so a
    /// command can check before doing any work.
    public static func checkFileTarget(_ path: String, force: Bool) throws(ToolError) {
        switch FileKind.of(path) {
        case .missing: break
        case .directory:
            throw .cannotWrite(path: path, problem: "a folder has this name; choose another file name")
        case .regular, .special:
            guard force else { throw .cannotWrite(path: path, problem: "the file exists; choose another name, or pass --force to replace it") }
        }
    }

    /// Writes `files` (new names, subfolders created as needed) into `staging`, a folder that
    /// `writeFolder` is filling; `writeFolder` makes them durable with the rest. Errors name the
    /// file under `target`, where it will be.
    public static func writeFiles(_ files: [OutputFile], into staging: String, reportedAs target: String) throws(ToolError) {
        var folders: Set<String> = [staging]
        for file in files {
            let path = staging + "/" + file.path
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            do {
                if folders.insert(folder).inserted {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                }
            } catch {
                throw .cannotWrite(path: trim(target) + "/" + file.path, problem: describe(error))
            }
            if let problem = createFile(path, file) {
                throw .cannotWrite(path: trim(target) + "/" + file.path, problem: problem)
            }
        }
    }

    /// Makes a filled staging folder durable before it is renamed into place, at the cost of one
    /// disk flush rather than one per file (the batch method of Git's core.fsyncMethod): every
    /// file's pages were sent to the device when it was created, all in flight together; here
    /// each write-out is waited for, then syncing the folders commits the file system's journal,
    /// which holds every file's metadata, and flushes the device once.
    static func makeDurable(_ staging: String, files: [String], folders: [String], reportedAs target: String) throws(ToolError) {
        for path in files.map({ staging + "/" + $0 }) {
            if let problem = waitForWriteOut(path) { throw .cannotWrite(path: trim(target), problem: problem) }
        }
        for folder in ([staging] + folders.map { staging + "/" + $0 }).sorted(by: >) {
            if let problem = sync(folder) { throw .cannotWrite(path: trim(target), problem: problem) }
        }
    }

    /// Creates `path` (which must not exist) holding `bytes`, its write-out to the device started
    /// but not waited for (see `waitForWriteOut` and `sync`). Returns the system's description of a
    /// failure, nil on success.
    static func createFile(_ path: String, _ bytes: Data) -> String? {
        createFile(path, OutputFile(path, bytes))
    }

    /// The same for an output file: its contents, or the pieces its stream produces.
    static func createFile(_ path: String, _ file: OutputFile) -> String? {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        var failure: String?
        var total = 0
        func writeAll(_ raw: UnsafeRawBufferPointer) -> Bool {
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return false
                }
                offset += written
            }
            total += raw.count
            return true
        }
        if let stream = file.stream {
            stream.produce { writeAll($0) }
            if failure == nil, total != stream.byteCount {
                failure = "internal error: \(total) bytes produced, \(stream.byteCount) announced"
            }
        } else {
            _ = file.contents.withUnsafeBytes { writeAll($0) }
        }
        // Start the data on its way to the disk (a full fsync where that is not supported).
        if failure == nil, tvgeo_start_write_out(descriptor) != 0, fsync(descriptor) != 0 {
            failure = String(cString: strerror(errno))
        }
        if close(descriptor) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        return failure
    }

    /// Waits until a created file's pages are on the device (see `createFile`); a full fsync where
    /// the file system cannot say. Returns the system's description of a failure, nil on success.
    static func waitForWriteOut(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        defer { close(descriptor) }
        return tvgeo_write_out(descriptor) == 0 || fsync(descriptor) == 0 ? nil : String(cString: strerror(errno))
    }

    /// Flushes a file's or a folder's data and entry to the disk. Returns the system's
    /// description of a failure, nil on success.
    static func sync(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        defer { close(descriptor) }
        return fsync(descriptor) == 0 ? nil : String(cString: strerror(errno))
    }

    /// What is at an output path.
    public enum TargetState: Equatable, Sendable {
        /// Nothing, or an empty folder.
        case free
        /// A folder tvgeo wrote (it holds the marker).
        case tvgeoOutput
        /// A non-empty folder without the marker (accepted only with `force`).
        case foreign
    }

    /// Refuses a target that is a file, or a non-empty folder without the marker unless `force`
    /// (exit 73), so a command can check before doing any work.
    @discardableResult
    public static func checkTarget(_ target: String, force: Bool = false) throws(ToolError) -> TargetState {
        let trimmed = trim(target)
        switch FileKind.of(trimmed) {
        case .regular, .special:
            throw .cannotWrite(path: trimmed, problem: "a file with this name exists; choose another --out")
        case .directory:
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: trimmed)) ?? []
            if contents.isEmpty { return .free }
            if contents.contains(marker) { return .tvgeoOutput }
            guard force else {
                throw .cannotWrite(path: trimmed,
                                   problem: "the folder exists and is not a tvgeo output (no \(marker)); choose another --out, remove it, "
                                            + "or pass --force to replace only tvgeo's own files in it")
            }
            return .foreign
        case .missing:
            return .free
        }
    }

    /// Writes each file to `<folder>/<path>` by a temporary file and a rename, so each one is
    /// either the old or the new file. Every temporary file is written (and its write-out waited
    /// for) before the first rename, so a failure while writing (a full disk) leaves every earlier
    /// file as it was and no temporary file behind. A path must stay inside the folder.
    static func replaceFiles(_ files: [OutputFile], in folder: String) throws(ToolError) {
        let pid = ProcessInfo.processInfo.processIdentifier
        var staged: [(temporary: String, path: String)] = []
        func discardStaged() { for entry in staged { _ = unlink(entry.temporary) } }
        for file in files {
            guard !file.path.hasPrefix("/"), !file.path.split(separator: "/").contains("..") else {
                discardStaged()
                throw .internalError("output path \(file.path) leaves the output folder")
            }
            let path = folder + "/" + file.path
            let url = URL(fileURLWithPath: path)
            let temporary = url.deletingLastPathComponent().path + "/.\(url.lastPathComponent).tvgeo-tmp-\(pid)"
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                if case .directory = FileKind.of(path) {
                    throw ToolError.cannotWrite(path: path, problem: "a folder has this name; remove it or choose another --out")
                }
                _ = unlink(temporary)
                staged.append((temporary, path))
                if let problem = createFile(temporary, file) ?? waitForWriteOut(temporary) {
                    throw ToolError.cannotWrite(path: path, problem: problem)
                }
            } catch let error as ToolError {
                discardStaged()
                throw error
            } catch {
                discardStaged()
                throw .cannotWrite(path: path, problem: describe(error))
            }
        }
        var folders: Set<String> = []
        for (index, entry) in staged.enumerated() {
            guard rename(entry.temporary, entry.path) == 0 else {
                let problem = String(cString: strerror(errno))
                for later in staged[index...] { _ = unlink(later.temporary) }
                throw .cannotWrite(path: entry.path, problem: problem)
            }
            folders.insert(URL(fileURLWithPath: entry.path).deletingLastPathComponent().path)
        }
        // The renames and the new files' metadata reach the disk in one journal commit.
        for changed in folders.sorted() {
            if let problem = sync(changed) { throw .cannotWrite(path: changed, problem: problem) }
        }
    }

    /// Builds a folder all or nothing: `fill` writes into a hidden staging folder beside `target`,
    /// then the files of an earlier output at `target` that tvgeo did not write are carried over
    /// (`carryUserFiles`), the marker lists what `fill` wrote, and the staging folder replaces
    /// `target`. On failure the staging folder is removed and an earlier output stays as it was.
    ///
    /// An earlier output is swapped with the new one in one step (`renameat2` with
    /// RENAME_EXCHANGE on Linux, `renamex_np` with RENAME_SWAP on macOS), so a kill -9 at any
    /// moment leaves the old folder or the new one at the target. Where the file system cannot
    /// exchange, the old folder is first renamed aside; a run killed between the two renames
    /// leaves it at `.<name>.tvgeo-old-<pid>`, and the next run puts it back. Staging folders
    /// left by killed runs are removed by the next run.
    public static func writeFolder(at target: String, force: Bool = false,
                                   fill: (String) throws(ToolError) -> Void) throws(ToolError) {
        try checkTarget(target)
        let manager = FileManager.default
        let trimmed = trim(target)
        let url = URL(fileURLWithPath: trimmed)
        let parent = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        let pid = ProcessInfo.processInfo.processIdentifier
        let staging = parent + "/.\(name).tvgeo-tmp-\(pid)"
        let previous = parent + "/.\(name).tvgeo-old-\(pid)"
        do {
            try manager.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: parent, problem: "cannot create the folder (\(describe(error)))")
        }
        recoverInterruptedRuns(parent: parent, name: name, target: trimmed)
        try? manager.removeItem(atPath: staging)
        do {
            try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: trimmed, problem: describe(error))
        }
        let hadPrevious = FileKind.of(trimmed) == .directory
        do throws(ToolError) {
            try fill(staging)
            let written = FolderTree.walk(staging)
            let files = written.compactMap { item -> (path: String, entry: OutputRecord.Entry)? in
                if case .file(let entry) = item.kind { return (item.path, entry) }
                return nil
            }
            var folders = written.filter { $0.kind == .directory }.map(\.path)
            if hadPrevious {
                folders += try carryUserFiles(from: trimmed, into: staging, written: Set(written.map(\.path)), force: force)
            }
            if let problem = createFile(staging + "/" + marker, Data(OutputRecord.markerText(files: files).utf8)) {
                throw .cannotWrite(path: trimmed + "/" + marker, problem: problem)
            }
            try makeDurable(staging, files: files.map(\.path) + [marker], folders: Array(Set(folders)), reportedAs: trimmed)
        } catch {
            try? manager.removeItem(atPath: staging)
            // A file is named where it would have been, not in the hidden staging folder.
            if case .cannotWrite(let path, let problem) = error, path.hasPrefix(staging + "/") {
                throw .cannotWrite(path: trimmed + path.dropFirst(staging.count), problem: problem)
            }
            throw error
        }
        if hadPrevious, tvgeo_exchange_paths(staging, trimmed) == 0 {
            // The staging path now holds the earlier output.
            try? manager.removeItem(atPath: staging)
            return
        }
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

    /// Carries into `staging` every entry of the earlier output `old` that tvgeo did not write
    /// there, or that was changed since (size or modification time differ from the marker's
    /// record): files are hard-linked (copied where a link is refused), symbolic links recreated,
    /// empty folders made, so the earlier folder stays whole until the swap. An entry whose path
    /// this run writes (`written`) stops the run (exit 73) naming it, unless `force`, which lets
    /// the new file replace it. Returns the folders created in `staging`.
    static func carryUserFiles(from old: String, into staging: String, written: Set<String>,
                               force: Bool) throws(ToolError) -> [String] {
        guard FileKind.of(old + "/" + marker) == .regular else { return [] }
        let record = OutputRecord.read(folder: old)
        var created: [String] = []
        func makeParents(of path: String) throws(ToolError) {
            let components = path.split(separator: "/").dropLast()
            var folder = ""
            for component in components {
                folder += (folder.isEmpty ? "" : "/") + component
                if written.contains(folder) || created.contains(folder) { continue }
                if mkdir(staging + "/" + folder, 0o777) != 0, errno != EEXIST {
                    throw .cannotWrite(path: old + "/" + folder, problem: "cannot carry it over: " + String(cString: strerror(errno)))
                }
                created.append(folder)
            }
        }
        for entry in FolderTree.walk(old) where entry.path != marker {
            let changed: Bool
            switch entry.kind {
            case .directory:
                // Folders come with their files; an empty one of the user's is made as it was.
                let empty = (try? FileManager.default.contentsOfDirectory(atPath: old + "/" + entry.path))?.isEmpty ?? false
                guard empty, !written.contains(entry.path), !created.contains(entry.path) else { continue }
                try makeParents(of: entry.path + "/x")
                continue
            case .file(let now):
                if let record {
                    guard let recorded = record.files[entry.path] else { changed = false; break }
                    if now == recorded { continue }
                    changed = true
                } else {
                    if OutputRecord.ownsLegacy(entry.path) { continue }
                    changed = false
                }
            case .link, .other:
                changed = false
            }
            let path = old + "/" + entry.path
            if written.contains(entry.path) || written.contains(where: { $0.hasPrefix(entry.path + "/") }) {
                if force { continue }
                let whose = changed ? "this file was changed since tvgeo wrote it" : "tvgeo did not write this file"
                throw .cannotWrite(path: path, problem: "\(whose), and this run would replace it; "
                                   + "move it out of the folder, or pass --force to replace it")
            }
            guard entry.kind != .other else { continue }
            try makeParents(of: entry.path)
            let destination = staging + "/" + entry.path
            if entry.kind == .link {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path),
                      symlink(target, destination) == 0 else {
                    throw .cannotWrite(path: path, problem: "cannot carry this link into the new output: " + String(cString: strerror(errno)))
                }
            } else if link(path, destination) != 0 {
                do {
                    try FileManager.default.copyItem(atPath: path, toPath: destination)
                } catch {
                    throw .cannotWrite(path: path, problem: "cannot carry it into the new output (\(describe(error)))")
                }
            }
        }
        return created
    }

    /// Cleans up after runs killed while writing `target`: their staging folders are removed, and
    /// an earlier output moved aside (`.tvgeo-old-<pid>`) goes back when the target is missing.
    /// Only folders of processes that no longer exist are touched.
    static func recoverInterruptedRuns(parent: String, name: String, target: String) {
        let manager = FileManager.default
        for entry in entries(of: parent, withPrefix: "." + name + ".tvgeo-").sorted() {
            for (kind, restore) in [(".tvgeo-tmp-", false), (".tvgeo-old-", true)] {
                let prefix = "." + name + kind
                guard entry.hasPrefix(prefix), let pid = Int32(entry.dropFirst(prefix.count)), !processExists(pid) else { continue }
                let path = parent + "/" + entry
                if restore, case .missing = FileKind.of(target), rename(path, target) == 0 { continue }
                try? manager.removeItem(atPath: path)
            }
        }
    }

    /// The names in `folder` that start with `prefix`, read with readdir: the parent of an output
    /// folder may be a crowded /tmp, where building a string for every entry costs milliseconds.
    static func entries(of folder: String, withPrefix prefix: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        let wanted = Array(prefix.utf8)
        // A file name has at most 255 bytes, so a longer prefix matches nothing.
        guard wanted.count < 256 else { return [] }
        var found: [String] = []
        while let entry = readdir(directory) {
            let matches = withUnsafeBytes(of: &entry.pointee.d_name) { raw -> Bool in
                for (index, byte) in wanted.enumerated() where raw[index] != byte { return false }
                return true
            }
            guard matches else { continue }
            found.append(withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            })
        }
        return found
    }

    static func processExists(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    static func trim(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    static func describe(_ error: Error) -> String {
        let text = (error as NSError).localizedDescription
        return text.isEmpty ? "\(error)" : text
    }
}
