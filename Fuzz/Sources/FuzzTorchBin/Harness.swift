import Diagnostics
import FuzzSupport
import TensorIO

// TorchCheckpoint maps a path, so every input goes through a scratch file.
let input = TempInput(suffix: ".bin")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    input.write(data, size)
    do {
        let checkpoint = try TorchCheckpoint(path: input.path)
        for tensor in checkpoint.tensors where tensor.dtype.isReadableAsFloat {
            do {
                let values = try checkpoint.doubles(tensor.name)
                precondition(values.count == tensor.elementCount, "doubles(\(tensor.name)) returned \(values.count) values for shape \(tensor.shape)")
            } catch {
                // One unreadable tensor; try the others.
            }
        }
    } catch {
        // Expected for malformed archives.
    }
    return 0
}
