import Diagnostics

/// The entries of a ZIP archive held in memory (a mapped file), read from the end-of-central-
/// directory record and the central directory, each entry's local header checked. Only stored
/// (uncompressed, unencrypted) entries are accepted: that is what `torch.save` writes. Every
/// offset and size is validated against the archive's length before it is used, so a truncated or
/// hostile archive is an error, never an out-of-bounds read. ZIP64 records are understood.
struct ZipArchive {
    struct Entry: Equatable {
        var name: String
        /// Byte range of the entry's data inside the archive.
        var data: Range<Int>
    }

    /// Entries in central-directory order.
    let entries: [Entry]
    private let index: [String: Int]

    static let maxEntries = 1_000_000
    static let maxNameBytes = 4096

    func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// Parses the archive in `bytes`; errors name `path` and the record or entry at fault.
    init(bytes: UnsafeRawBufferPointer, path: String) throws(ToolError) {
        let reader = ZipReader(bytes: bytes, path: path)
        let size = bytes.count
        // The end-of-central-directory record: 22 bytes plus a comment of at most 65535 bytes.
        guard size >= 22 else {
            throw reader.notZip("the file is \(size) bytes, shorter than a ZIP end-of-central-directory record")
        }
        var eocd = -1
        var position = size - 22
        let lowest = max(0, size - 22 - 65535)
        while position >= lowest {
            if reader.u32(position) == 0x0605_4b50, position + 22 + Int(reader.u16(position + 20)) == size {
                eocd = position
                break
            }
            position -= 1
        }
        guard eocd >= 0 else {
            throw reader.notZip("no end-of-central-directory record (the file is not a ZIP archive, or it is truncated)")
        }
        var entryCount = Int(reader.u16(eocd + 10))
        var directorySize = Int(reader.u32(eocd + 12))
        var directoryOffset = Int(reader.u32(eocd + 16))
        if reader.u16(eocd + 4) != 0 || reader.u16(eocd + 6) != 0, reader.u16(eocd + 4) != 0xFFFF {
            throw ToolError.invalidData(file: path, location: "zip archive", problem: "multi-disk (split) ZIP archives are not supported")
        }
        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: a 20-byte locator just before the record points at the ZIP64 end record.
            let locator = eocd - 20
            guard locator >= 0, reader.u32(locator) == 0x0706_4b50 else {
                throw ToolError.invalidData(file: path, location: "zip archive",
                                            problem: "the end-of-central-directory record asks for ZIP64 but no ZIP64 locator precedes it")
            }
            let record = try reader.offset(reader.u64(locator + 8), what: "ZIP64 end-of-central-directory offset")
            guard record <= size - 56, reader.u32(record) == 0x0606_4b50 else {
                throw ToolError.invalidData(file: path, location: "zip archive",
                                            problem: "no ZIP64 end-of-central-directory record at byte \(record)")
            }
            entryCount = try reader.offset(reader.u64(record + 32), what: "ZIP64 entry count")
            directorySize = try reader.offset(reader.u64(record + 40), what: "ZIP64 central directory size")
            directoryOffset = try reader.offset(reader.u64(record + 48), what: "ZIP64 central directory offset")
        }
        guard entryCount <= Self.maxEntries else {
            throw ToolError.invalidData(file: path, location: "zip archive", problem: "\(entryCount) entries exceed the limit of \(Self.maxEntries)")
        }
        guard directoryOffset <= size, directorySize <= size - directoryOffset else {
            throw ToolError.invalidData(file: path, location: "zip archive",
                                        problem: "central directory \(directoryOffset)..<\(directoryOffset &+ directorySize) "
                                                 + "lies outside the file (\(size) bytes; truncated?)")
        }
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        var cursor = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for number in 0..<entryCount {
            guard cursor <= directoryEnd - 46, reader.u32(cursor) == 0x0201_4b50 else {
                throw ToolError.invalidData(file: path, location: "zip archive",
                                            problem: "central directory entry \(number) at byte \(cursor) is missing or malformed")
            }
            let flags = reader.u16(cursor + 8)
            let method = reader.u16(cursor + 10)
            var compressedSize = UInt64(reader.u32(cursor + 20))
            var size32 = UInt64(reader.u32(cursor + 24))
            let nameLength = Int(reader.u16(cursor + 28))
            let extraLength = Int(reader.u16(cursor + 30))
            let commentLength = Int(reader.u16(cursor + 32))
            var localOffset = UInt64(reader.u32(cursor + 42))
            let variable = cursor + 46
            guard nameLength <= Self.maxNameBytes, variable + nameLength + extraLength + commentLength <= directoryEnd else {
                throw ToolError.invalidData(file: path, location: "zip archive",
                                            problem: "central directory entry \(number) runs past the end of the directory")
            }
            let nameBytes = UnsafeRawBufferPointer(rebasing: bytes[variable..<(variable + nameLength)])
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw ToolError.invalidData(file: path, location: "zip archive", problem: "entry \(number) has a name that is not UTF-8")
            }
            // ZIP64 extended information: the 64-bit values of the fields set to 0xFFFFFFFF, in order.
            if size32 == 0xFFFF_FFFF || compressedSize == 0xFFFF_FFFF || localOffset == 0xFFFF_FFFF {
                var extra = variable + nameLength
                let extraEnd = extra + extraLength
                var found = false
                while extra + 4 <= extraEnd {
                    let tag = reader.u16(extra), length = Int(reader.u16(extra + 2))
                    guard extra + 4 + length <= extraEnd else { break }
                    if tag == 0x0001 {
                        var field = extra + 4
                        func next() throws(ToolError) -> UInt64 {
                            guard field + 8 <= extra + 4 + length else {
                                throw ToolError.invalidData(file: path, location: name, problem: "ZIP64 extra field is too short")
                            }
                            defer { field += 8 }
                            return reader.u64(field)
                        }
                        if size32 == 0xFFFF_FFFF { size32 = try next() }
                        if compressedSize == 0xFFFF_FFFF { compressedSize = try next() }
                        if localOffset == 0xFFFF_FFFF { localOffset = try next() }
                        found = true
                        break
                    }
                    extra += 4 + length
                }
                guard found else {
                    throw ToolError.invalidData(file: path, location: name,
                                                problem: "sizes or offset need ZIP64 but the entry has no ZIP64 extra field")
                }
            }
            guard flags & 0x1 == 0 else {
                throw ToolError.invalidData(file: path, location: name, problem: "entry is encrypted; encrypted archives are not supported")
            }
            guard method == 0 else {
                throw ToolError.invalidData(file: path, location: name,
                                            problem: "entry is compressed (ZIP method \(method)); "
                                                     + "torch.save archives store entries uncompressed, re-save the checkpoint with torch.save")
            }
            guard compressedSize == size32 else {
                throw ToolError.invalidData(file: path, location: name,
                                            problem: "stored entry has compressed size \(compressedSize) but size \(size32)")
            }
            let header = try reader.offset(localOffset, what: "local header offset of \(name)")
            guard header <= size - 30, reader.u32(header) == 0x0403_4b50 else {
                throw ToolError.invalidData(file: path, location: name, problem: "no local file header at byte \(header) (truncated archive?)")
            }
            let dataStart = header + 30 + Int(reader.u16(header + 26)) + Int(reader.u16(header + 28))
            let length = try reader.offset(size32, what: "size of \(name)")
            guard dataStart <= size, length <= size - dataStart else {
                throw ToolError.invalidData(file: path, location: name,
                                            problem: "entry data \(dataStart)..<\(dataStart &+ length) "
                                                     + "lies outside the file (\(size) bytes; truncated?)")
            }
            guard index[name] == nil else {
                throw ToolError.invalidData(file: path, location: name, problem: "the archive holds two entries with this name")
            }
            index[name] = entries.count
            entries.append(Entry(name: name, data: dataStart..<(dataStart + length)))
            cursor = variable + nameLength + extraLength + commentLength
        }
        self.entries = entries
        self.index = index
    }
}

/// Bounds-checked little-endian reads for `ZipArchive` (callers check ranges first; these
/// return 0 past the end rather than read outside the buffer).
private struct ZipReader {
    let bytes: UnsafeRawBufferPointer
    let path: String

    func u16(_ at: Int) -> UInt16 {
        guard at >= 0, at <= bytes.count - 2 else { return 0 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }

    func u32(_ at: Int) -> UInt32 {
        guard at >= 0, at <= bytes.count - 4 else { return 0 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }

    func u64(_ at: Int) -> UInt64 {
        guard at >= 0, at <= bytes.count - 8 else { return 0 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }

    /// A 64-bit offset or size as an Int no larger than the archive.
    func offset(_ value: UInt64, what: String) throws(ToolError) -> Int {
        guard value <= UInt64(bytes.count) else {
            throw .invalidData(file: path, location: "zip archive",
                               problem: "\(what) \(value) exceeds the file size (\(bytes.count) bytes; truncated?)")
        }
        return Int(value)
    }

    func notZip(_ problem: String) -> ToolError {
        .invalidData(file: path, location: nil, problem: "\(problem); \(TorchCheckpoint.conversionAdvice)")
    }
}
