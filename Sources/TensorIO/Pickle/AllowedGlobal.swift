/// The only callables and type tags the machine knows. Resolving any other global is an error.
enum AllowedGlobal: Equatable {
    case orderedDict, rebuildTensorV2, rebuildParameter
    /// `torch.FloatStorage` etc. or `torch.float32` etc.: a type tag, never called.
    case elementType(TensorDType)

    static func resolve(module: String, name: String) -> AllowedGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch", let type): return elementTypes[type].map { .elementType($0) }
        default: return nil
        }
    }

    static let elementTypes: [String: TensorDType] = [
        "FloatStorage": .f32, "DoubleStorage": .f64, "HalfStorage": .f16, "BFloat16Storage": .bf16,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
        "ByteStorage": .u8, "BoolStorage": .bool,
        "float32": .f32, "float": .f32, "float64": .f64, "double": .f64, "float16": .f16, "half": .f16,
        "bfloat16": .bf16, "int64": .i64, "long": .i64, "int32": .i32, "int": .i32, "int16": .i16,
        "short": .i16, "int8": .i8, "uint8": .u8, "bool": .bool,
    ]
}
