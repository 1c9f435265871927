import AnalysisCore
import Diagnostics
import Foundation
import JSONText
import TensorIO

/// `--part K/N`: part K (1-based) of a study split into N parts.
public struct PartSelector: Equatable, Sendable {
    public var part: Int
    public var parts: Int

    public init(part: Int, parts: Int) {
        self.part = part
        self.parts = parts
    }

    /// Parses "K/N" (decimal, 1 ≤ K ≤ N); anything else is a usage error saying what is expected.
    public init(parsing text: String) throws(ToolError) {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        let digits = pieces.allSatisfy { !$0.isEmpty && $0.count <= 9 && $0.allSatisfy { $0.isASCII && $0.isNumber } }
        guard pieces.count == 2, digits, let part = Int(pieces[0]), let parts = Int(pieces[1]) else {
            throw .usage("--part must be K/N, part K of N parts (for example 2/8), not \(Wording.quoted(text))")
        }
        guard parts >= 1, (1...parts).contains(part) else {
            throw .usage("--part \(text): K must be between 1 and N (N ≥ 1)")
        }
        self.init(part: part, parts: parts)
    }

    public var text: String { "\(part)/\(parts)" }
}

/// What one part wrote, for the command's summary line.
public struct PartOutcome: Sendable {
    public var files: [OutputFile]
    public var warnings: [Warning]
    public var units: Int
    public var unitCount: Int
    public var blocksRead: Int
}

/// `tvgeo analyze --part K/N`: computes part K's share of the study's (block, tile) units
/// (`PartPlan`) and returns the part folder (the contract is in docs/distributed.md):
/// - `part.json`: schema `tvgeo.part/1`, K and N, this part's unit range, and under `study`
///   everything that identifies the study (tool version, kind, modules filter, every input file
///   with its size and SHA-256, every adapter's layout, the plan). Parts of one study have
///   byte-identical `study` objects; `tvgeo combine` checks that.
/// - `blocks.safetensors`: per unit, F64 tensors named `distances/<metric>/<module>/<layer>/<r0:r1,c0:c1>`
///   (rows r0..<r1 by columns c0..<c1 of the N×N matrix, NaN where undefined), for every metric
///   of the catalogue that applies to LoRA; on diagonal tiles also `norms/<module>/<layer>/<r0:r1>`
///   and `subspace_ranks/<delta|b|a>/<module>/<layer>/<r0:r1>` (NaN for an adapter without the block).
/// Nothing in the folder depends on time or machine: a rerun writes the same bytes.
public enum StudyPart {
    public static let schema = "tvgeo.part/1"
    public static let manifestName = "part.json"
    public static let tensorsName = "blocks.safetensors"

    public static func compute(_ input: StudyInput, part selector: PartSelector,
                               progress: StudyProgress? = nil) throws(ToolError) -> PartOutcome {
        guard input.base == nil else {
            throw .usage("--part splits LoRA studies only; full fine-tuning (--base) runs on one machine (tvgeo analyze without --part)")
        }
        guard input.scores == nil else {
            throw .usage("--part writes distances only; give --scores to tvgeo combine")
        }
        let adapters = try LoRAStudy.load(input.arguments)
        let (plan, warnings) = try LoRAStudy.plan(adapters, modules: input.modules)
        let partPlan = PartPlan(blocks: plan.blocks.count, adapters: adapters.count, parts: selector.parts)
        let share = partPlan.share(ofPart: selector.part)
        let units = Array(partPlan.units[share])
        let names = plan.blocks.map { plan.names[$0.module]! }

        BLASThreads.useSingleThread()
        let tensorsPerUnit = try ConcurrentWork.map(count: units.count, onFailure: .stopClaiming, progress: progress,
                                                    makeScratch: { StackedBlock() }) { (index, stacks: inout StackedBlock) throws(ToolError) in
            let unit = units[index]
            let key = plan.blocks[unit.block]
            return try unitTensors(unit, module: names[unit.block], layer: key.layer, holders: plan.holders[key]!,
                                   compute: { (local: [Int]) throws(ToolError) in
                                       try LoRAStudy.computeBlock(key, of: local.map { adapters[$0] }, stacks: &stacks)
                                   })
        }
        let tensors = try SafetensorsWriter.data(tensorsPerUnit.flatMap { $0 }, metadata: [
            "format": schema, "part": selector.text,
            "naming": "<kind>/<metric or subspace>/<module>/<layer>/<rows r0:r1>,<columns c0:c1> of the N×N matrices; see part.json",
        ], file: tensorsName)
        let study = try studyJSON(input: input, adapters: adapters, plan: plan, partPlan: partPlan)
        let manifest = JSONValue.object([
            ("schema", .string(schema)),
            ("part", .int(selector.part)),
            ("parts", .int(selector.parts)),
            ("units", .object([("first", .int(share.lowerBound)), ("end", .int(share.upperBound))])),
            ("tensors", .string(tensorsName)),
            ("study", study),
        ])
        return PartOutcome(files: [OutputFile(manifestName, text: JSONWriter.string(manifest) + "\n"), OutputFile(tensorsName, tensors)],
                           warnings: warnings, units: units.count, unitCount: partPlan.unitCount,
                           blocksRead: Set(units.map(\.block)).count)
    }

    /// The tensors of one unit. `compute` runs the kernel on the block's holders among the
    /// unit's rows and columns (study indices, ascending); it is not called when there are none.
    static func unitTensors(_ unit: PartUnit, module: String, layer: Int, holders: [Int],
                            compute: ([Int]) throws(ToolError) -> BlockGeometryResult) throws(ToolError) -> [TensorRecord] {
        let local = holders.filter { unit.rows.contains($0) || unit.columns.contains($0) }
        let result = local.isEmpty ? nil : try compute(local)
        var position: [Int: Int] = [:]
        for (index, adapter) in local.enumerated() { position[adapter] = index }
        var records: [TensorRecord] = []
        for metric in DistanceMetric.applying(to: .lora) {
            let matrix = result?.distances[metric]
            if result != nil, matrix == nil { throw .internalError("the lora kernel did not compute metric \(metric.id)") }
            // A symmetric metric's tile is its mirror too; an asymmetric one (row = host) also stores the
            // mirror tile, value (j, i) at [1, i, j]: shape [2, rows, columns].
            let sides = metric.descriptor.isSymmetric ? [false] : [false, true]
            var values: [Double] = []
            values.reserveCapacity(sides.count * unit.rows.count * unit.columns.count)
            for mirrored in sides {
                for i in unit.rows {
                    for j in unit.columns {
                        if let matrix, let a = position[i], let b = position[j] {
                            values.append(mirrored ? matrix[b, a] : matrix[a, b])
                        } else {
                            values.append(.nan)
                        }
                    }
                }
            }
            let shape = (sides.count > 1 ? [2] : []) + [unit.rows.count, unit.columns.count]
            records.append(record(distanceName(metric, module: module, layer: layer, unit: unit), shape, values))
        }
        guard unit.isDiagonal else { return records }
        let norms = unit.rows.map { i in position[i].map { result!.norms[$0] } ?? .nan }
        records.append(record(normName(module: module, layer: layer, unit: unit), [unit.rows.count], norms))
        for kind in SubspaceKind.allCases {
            let ranks = result?.subspaceRanks[kind]
            if result != nil, ranks == nil { throw .internalError("the lora kernel did not compute the ranks of \(kind.rawValue)") }
            let values = unit.rows.map { i in position[i].flatMap { index in ranks.map { Double($0[index]) } } ?? .nan }
            records.append(record(rankName(kind, module: module, layer: layer, unit: unit), [unit.rows.count], values))
        }
        return records
    }

    static func distanceName(_ metric: DistanceMetric, module: String, layer: Int, unit: PartUnit) -> String {
        "distances/\(metric.id)/\(module)/\(layer)/\(unit.rows.lowerBound):\(unit.rows.upperBound),"
            + "\(unit.columns.lowerBound):\(unit.columns.upperBound)"
    }

    static func normName(module: String, layer: Int, unit: PartUnit) -> String {
        "norms/\(module)/\(layer)/\(unit.rows.lowerBound):\(unit.rows.upperBound)"
    }

    static func rankName(_ kind: SubspaceKind, module: String, layer: Int, unit: PartUnit) -> String {
        "subspace_ranks/\(kind.rawValue)/\(module)/\(layer)/\(unit.rows.lowerBound):\(unit.rows.upperBound)"
    }

    /// F64, little-endian, NaN kept (the writer's value encoder refuses non-finite weights).
    private static func record(_ name: String, _ shape: [Int], _ values: [Double]) -> TensorRecord {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 8)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return TensorRecord(name: name, dtype: .f64, shape: shape, bytes: bytes)
    }

    /// The `study` object of the manifest: identical in every part of one study.
    static func studyJSON(input: StudyInput, adapters: [LoRAAdapter], plan: BlockPlan, partPlan: PartPlan) throws(ToolError) -> JSONValue {
        // The files each adapter was read from: its config (when it has one) and its tensors.
        let files: [[String]] = adapters.map { adapter in
            var list: [String] = []
            if adapter.config != nil {
                let folder = FileKind.of(adapter.path) == .directory ? adapter.path : LoRAAdapter.parentFolder(of: adapter.weightsPath)
                list.append(folder + "/adapter_config.json")
            }
            return list + [adapter.weightsPath]
        }
        let flat = files.flatMap { $0 }
        let digests = try ConcurrentWork.map(count: flat.count, onFailure: .runAllThenFirstInOrder) { index throws(ToolError) in
            try SHA256.hex(ofFile: flat[index])
        }
        var next = 0
        var inputs: [JSONValue] = []
        for (adapter, list) in zip(adapters, files) {
            var entries: [JSONValue] = []
            for path in list {
                let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
                entries.append(.object([("path", .string(path)), ("bytes", .int(bytes)), ("sha256", .string(digests[next]))]))
                next += 1
            }
            inputs.append(.object([("task", .string(adapter.task)), ("path", .string(adapter.path)), ("files", .array(entries))]))
        }
        return .object([
            ("tool", .object([("name", .string("tvgeo")), ("version", .string(ToolInfo.version))])),
            ("kind", .string(FineTuningKind.lora.rawValue)),
            ("modules", input.modules.map { .array($0.map(JSONValue.string)) } ?? .null),
            ("inputs", .array(inputs)),
            ("adapters", .array(adapters.map { StoredAdapter($0).json })),
            ("blocks", .array(plan.blocks.map { .object([("module", .string(plan.names[$0.module]!)), ("layer", .int($0.layer))]) })),
            ("plan", partPlan.json),
        ])
    }
}
