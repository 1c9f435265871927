import Diagnostics
import FuzzSupport
import TensorIO

// SafetensorsFile only opens paths (it maps the file), so every input goes through a scratch file.
let input = TempInput(suffix: ".safetensors")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    input.write(data, size)
    do {
        let file = try SafetensorsFile(path: input.path)
        for tensor in file.tensors where tensor.dtype.isReadableAsFloat {
            let values = try file.doubles(tensor.name)
            precondition(values.count == tensor.elementCount, "doubles(\(tensor.name)) returned \(values.count) values for shape \(tensor.shape)")
        }
    } catch {
        // A ToolError is the expected answer to a malformed file.
    }
    return 0
}
