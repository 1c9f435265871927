import Diagnostics
import TensorIO

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        let config = try AdapterConfig.parse(bytes, file: "adapter_config.json")
        // Exercise the pattern lookups and the scaling on what was accepted.
        for module in ["model.layers.0.self_attn.q_proj", "encoder.layer.3.attention.self.value", ""] {
            let (rank, alpha) = config.rankAndAlpha(forModulePath: module)
            _ = config.scaling(rank: rank, alpha: alpha)
        }
    } catch {
        // Expected for malformed configs.
    }
    return 0
}
