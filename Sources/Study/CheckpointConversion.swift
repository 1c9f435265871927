import Diagnostics
import TensorIO

/// `tvgeo convert`: a PyTorch `.bin` checkpoint, read without running its pickle, written as
/// safetensors with the same names, dtypes, shapes and values.
public enum CheckpointConversion {
    /// Converts `input` to `output`. An existing `output` is refused unless `overwrite`.
    /// Returns the number of tensors written.
    @discardableResult
    public static func convert(_ input: String, to output: String, overwrite: Bool = false) throws(ToolError) -> Int {
        if case .missing = FileKind.of(output) {} else if !overwrite {
            throw .cannotWrite(path: output, problem: "exists; choose another name or pass --force to replace it")
        }
        if (try? SafetensorsFile(path: input)) != nil {
            throw .invalidData(file: input, location: nil, problem: "is already a safetensors file; there is nothing to convert")
        }
        let checkpoint = try TorchCheckpoint(path: input)
        var records: [TensorRecord] = []
        for tensor in checkpoint.tensors {
            guard tensor.dtype.isReadableAsFloat else {
                throw .invalidData(file: input, location: tensor.name,
                                   problem: "dtype \(tensor.dtype.rawValue): convert handles floating-point tensors (F64, F32, F16, BF16)")
            }
            // Every float dtype converts to Double and back exactly, so the values are kept bit for bit.
            records.append(try TensorRecord(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape,
                                            values: try checkpoint.doubles(tensor.name), file: input))
        }
        try SafetensorsWriter.write(records, to: output)
        return records.count
    }
}
