import Diagnostics

/// A file of named tensors that tvgeo can read as `Double`: a safetensors file or a PyTorch
/// checkpoint. `tensors` lists name, dtype and shape; values are converted on demand.
public protocol TensorSource: AnyObject, Sendable {
    var path: String { get }
    /// Tensors in file order.
    var tensors: [TensorInfo] { get }
    func info(_ name: String) -> TensorInfo?
    /// The tensor's elements as `Double`, row-major; refuses non-float dtypes and non-finite values.
    func doubles(_ name: String) throws(ToolError) -> [Double]
    /// Converts the tensor straight into `destination` (exactly its elements); `.columnMajor` needs 2-D.
    func copyMatrix(_ name: String, into destination: UnsafeMutableBufferPointer<Double>,
                    layout: SafetensorsFile.DestinationLayout) throws(ToolError)
    /// The tensor's elements in its dtype's little-endian encoding, row-major and contiguous (any
    /// dtype, nothing converted): what a safetensors file stores for it.
    func rawBytes(_ name: String) throws(ToolError) -> [UInt8]
}

extension SafetensorsFile: TensorSource {}
