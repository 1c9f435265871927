import AnalysisCore
import Diagnostics
import JSONText
import TensorIO

/// `tvgeo combine PARTDIR...`: checks that the part folders are the whole of one study and
/// gathers their units into the same `BlockResult`s `analyze` computes, then hands them to the
/// same `LoRAStudy.assemble`; the caller runs the same findings and writers as `analyze`, so the
/// output is byte-identical to a one-machine run.
public enum StudyCombine {
    /// One part folder's manifest.
    struct Part {
        var folder: String
        var manifest: String
        var part: Int
        var parts: Int
        var units: Range<Int>
        var study: JSONValue
        var studyText: String
    }

    /// The analysis of the study the parts in `folders` make up. A folder without a readable
    /// manifest is missing input (66); parts of different studies, a part given twice, a part
    /// missing or a damaged part file are invalid data (65), named.
    public static func combine(_ folders: [String]) throws(ToolError) -> StudyAnalysis {
        guard !folders.isEmpty else { throw .usage("give the part folders written by tvgeo analyze --part K/N") }
        let parts = try ConcurrentWork.map(count: folders.count, onFailure: .runAllThenFirstInOrder) { index throws(ToolError) in
            try readPart(folders[index])
        }
        let reference = parts[0]
        for part in parts.dropFirst() where part.studyText != reference.studyText {
            throw .invalidData(file: part.manifest, location: nil,
                               problem: "part \(part.part)/\(part.parts) belongs to another study than part \(reference.part)/\(reference.parts) "
                                        + "(\(reference.folder)): \(difference(reference.study, part.study))")
        }
        let study = reference.study
        let stored = try storedAdapters(study, file: reference.manifest)
        let modules = try study["modules"].flatMap { value throws(ToolError) -> [String]? in
            if value.isNull { return nil }
            guard let items = value.arrayValue?.compactMap(\.stringValue) else {
                throw .invalidData(file: reference.manifest, location: "study.modules", problem: "not a list of module names")
            }
            return items
        }
        let (plan, warnings) = try LoRAStudy.plan(stored, modules: modules)
        let blocks = JSONValue.array(plan.blocks.map { .object([("module", .string(plan.names[$0.module]!)), ("layer", .int($0.layer))]) })
        guard study["blocks"] == blocks else {
            throw .invalidData(file: reference.manifest, location: "study.blocks",
                               problem: "the blocks listed do not follow from the adapters listed (a part written by another tvgeo?)")
        }
        let partPlan = PartPlan(blocks: plan.blocks.count, adapters: stored.count, parts: reference.parts)
        guard study["plan"] == partPlan.json else {
            throw .invalidData(file: reference.manifest, location: "study.plan",
                               problem: "the plan differs from this tvgeo's plan for \(plan.blocks.count) blocks, "
                                        + "\(stored.count) adapters and \(reference.parts) parts")
        }
        // Every part exactly once.
        var byNumber: [Int: Part] = [:]
        for part in parts {
            if let earlier = byNumber[part.part] {
                throw .invalidData(file: part.manifest, location: nil,
                                   problem: "part \(part.part)/\(part.parts) is given twice (also \(earlier.folder))")
            }
            guard part.units == partPlan.share(ofPart: part.part) else {
                throw .invalidData(file: part.manifest, location: "units",
                                   problem: "units \(part.units) are not part \(part.part)/\(part.parts)'s share "
                                            + "\(partPlan.share(ofPart: part.part))")
            }
            byNumber[part.part] = part
        }
        let missing = (1...reference.parts).filter { byNumber[$0] == nil }
        guard missing.isEmpty else {
            throw .invalidData(file: reference.folder, location: nil,
                               problem: "part\(missing.count > 1 ? "s" : "") \(missing.map { "\($0)/\(reference.parts)" }.joined(separator: ", ")) "
                                        + "of this study \(missing.count > 1 ? "are" : "is") missing (given: "
                                        + "\(byNumber.keys.sorted().map { "\($0)/\(reference.parts)" }.joined(separator: ", ")))")
        }

        // Gather the units into N×N matrices, per block.
        let count = stored.count
        let metrics = DistanceMetric.applying(to: .lora)
        var results = plan.blocks.map { _ in
            BlockResult(distances: Dictionary(uniqueKeysWithValues: metrics.map { ($0, PairMatrix(count: count)) }),
                        norms: [Double](repeating: .nan, count: count),
                        subspaceRanks: Dictionary(uniqueKeysWithValues: SubspaceKind.allCases.map { ($0, [Int?](repeating: nil, count: count)) }))
        }
        let units = partPlan.units
        for number in 1...reference.parts {
            let part = byNumber[number]!
            guard !part.units.isEmpty else { continue }
            let tensors = try SafetensorsFile(path: part.folder + "/" + StudyPart.tensorsName)
            for unit in units[part.units] {
                let key = plan.blocks[unit.block]
                let (module, layer) = (plan.names[key.module]!, key.layer)
                for metric in metrics {
                    let tile = unit.rows.count * unit.columns.count
                    let symmetric = metric.descriptor.isSymmetric
                    let values = try read(tensors, StudyPart.distanceName(metric, module: module, layer: layer, unit: unit),
                                          count: symmetric ? tile : 2 * tile)
                    // Taken out of the dictionary while filled, so the matrix is mutated in place, not copied.
                    var matrix = results[unit.block].distances.removeValue(forKey: metric)!
                    var index = 0
                    for i in unit.rows {
                        for j in unit.columns {
                            // A symmetric kernel matrix is exactly symmetric: the tile's mirror is the same values;
                            // an asymmetric metric's part stores the mirror tile after the tile.
                            matrix.values[i * count + j] = values[index]
                            matrix.values[j * count + i] = symmetric ? values[index] : values[tile + index]
                            index += 1
                        }
                    }
                    results[unit.block].distances[metric] = matrix
                }
                guard unit.isDiagonal else { continue }
                let norms = try read(tensors, StudyPart.normName(module: module, layer: layer, unit: unit), count: unit.rows.count)
                for (offset, i) in unit.rows.enumerated() { results[unit.block].norms[i] = norms[offset] }
                for kind in SubspaceKind.allCases {
                    let name = StudyPart.rankName(kind, module: module, layer: layer, unit: unit)
                    let ranks = try read(tensors, name, count: unit.rows.count)
                    for (offset, i) in unit.rows.enumerated() where !ranks[offset].isNaN {
                        guard let rank = Int(exactly: ranks[offset]), rank >= 0 else {
                            throw .invalidData(file: tensors.path, location: name, problem: "element \(offset) is \(ranks[offset]), not a rank")
                        }
                        results[unit.block].subspaceRanks[kind]![i] = rank
                    }
                }
            }
        }
        return try LoRAStudy.assemble(adapters: stored, plan: plan, results: results, warnings: warnings,
                                      keptModules: modules.map(Set.init))
    }

    static func readPart(_ folder: String) throws(ToolError) -> Part {
        let manifest = folder + "/" + StudyPart.manifestName
        if case .missing(let problem) = FileKind.of(folder) { throw .missingInput(path: folder, problem: problem) }
        guard FileKind.of(manifest) == .regular else {
            throw .missingInput(path: manifest, problem: "no such file; is \(folder) a part folder written by tvgeo analyze --part K/N?")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(try readWholeFile(manifest, limit: 1 << 30))
        } catch let error as JSONSyntaxError {
            throw .invalidData(file: manifest, location: nil, problem: "not valid JSON: \(error)")
        } catch let error as ToolError {
            throw error
        } catch {
            throw .invalidData(file: manifest, location: nil, problem: "\(error)")
        }
        guard json["schema"]?.stringValue == StudyPart.schema else {
            throw .invalidData(file: manifest, location: "schema",
                               problem: "is \(json["schema"].map(JSONWriter.string) ?? "missing"), expected \"\(StudyPart.schema)\"")
        }
        guard let part = json["part"]?.intValue, let parts = json["parts"]?.intValue, parts >= 1, (1...parts).contains(part),
              let first = json["units"]?["first"]?.intValue, let end = json["units"]?["end"]?.intValue, first <= end,
              let study = json["study"], study.objectPairs != nil, study["plan"]?["parts"]?.intValue == parts else {
            throw .invalidData(file: manifest, location: nil, problem: "part, parts, units or study is missing or inconsistent")
        }
        return Part(folder: folder, manifest: manifest, part: part, parts: parts, units: first..<end, study: study,
                    studyText: JSONWriter.string(study))
    }

    static func storedAdapters(_ study: JSONValue, file: String) throws(ToolError) -> [StoredAdapter] {
        guard let entries = study["adapters"]?.arrayValue, !entries.isEmpty else {
            throw .invalidData(file: file, location: "study.adapters", problem: "missing or empty")
        }
        var adapters: [StoredAdapter] = []
        for entry in entries { adapters.append(try StoredAdapter(json: entry, file: file)) }
        return adapters
    }

    /// A tensor of `count` F64 values, NaN kept.
    static func read(_ file: SafetensorsFile, _ name: String, count: Int) throws(ToolError) -> [Double] {
        guard let info = file.info(name) else {
            throw .invalidData(file: file.path, location: name, problem: "no such tensor; the part folder is incomplete or damaged")
        }
        guard info.dtype == .f64, info.elementCount == count else {
            throw .invalidData(file: file.path, location: name,
                               problem: "is \(info.dtype.rawValue) \(info.shape), expected F64 with \(count) elements")
        }
        let bytes = try file.rawBytes(name)
        return (0..<count).map { index in
            var bits: UInt64 = 0
            for k in 0..<8 { bits |= UInt64(bytes[index * 8 + k]) << (8 * UInt64(k)) }
            return Double(bitPattern: bits)
        }
    }

    /// What differs between two parts' `study` objects, in words: the tool version, an input
    /// file (size or SHA-256), the input list, the modules filter, or the plan.
    static func difference(_ first: JSONValue, _ second: JSONValue) -> String {
        let version = { (study: JSONValue) in study["tool"]?["version"]?.stringValue ?? "?" }
        if version(first) != version(second) { return "written by tvgeo \(version(first)) and \(version(second))" }
        func files(_ study: JSONValue) -> [(String, JSONValue)] {
            (study["inputs"]?.arrayValue ?? []).flatMap { input in
                (input["files"]?.arrayValue ?? []).map { ($0["path"]?.stringValue ?? "?", $0) }
            }
        }
        let (filesA, filesB) = (files(first), files(second))
        let pathsA = filesA.map(\.0), pathsB = filesB.map(\.0)
        if pathsA != pathsB {
            let onlyA = pathsA.filter { !pathsB.contains($0) }, onlyB = pathsB.filter { !pathsA.contains($0) }
            if onlyA.isEmpty && onlyB.isEmpty { return "the same input files in another order" }
            return "input files differ (only in the first: \(onlyA.isEmpty ? "none" : onlyA.joined(separator: ", ")); "
                + "only in this one: \(onlyB.isEmpty ? "none" : onlyB.joined(separator: ", ")))"
        }
        for ((path, a), (_, b)) in zip(filesA, filesB) where a != b {
            let describe = { (file: JSONValue) in
                "\(file["bytes"]?.intValue.map(String.init) ?? "?") bytes, SHA-256 \(file["sha256"]?.stringValue?.prefix(12) ?? "?")…"
            }
            return "input \(path) differs (\(describe(a)) there, \(describe(b)) here)"
        }
        for key in ["kind", "modules", "adapters", "blocks", "plan"] where first[key] != second[key] {
            switch key {
            case "modules": return "they compare different modules"
            case "plan":
                let describe = { (study: JSONValue) in
                    "\(study["plan"]?["parts"]?.intValue ?? 0) parts, tiles of \(study["plan"]?["tile_size"]?.intValue ?? 0) adapters"
                }
                return "the plans differ (\(describe(second)) here, \(describe(first)) there)"
            default: return "the \(key) differ"
            }
        }
        return "the study descriptions differ"
    }
}

extension BlockResult {
    init(distances: [DistanceMetric: PairMatrix], norms: [Double], subspaceRanks: [SubspaceKind: [Int?]]) {
        self.distances = distances
        self.norms = norms
        self.subspaceRanks = subspaceRanks
    }
}
