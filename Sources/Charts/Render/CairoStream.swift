import CCairo
import Foundation

/// Collects the bytes Cairo writes through its stream callbacks.
final class ByteSink {
    var data = Data()
}

/// The `cairo_write_func_t` that appends to the `ByteSink` passed as closure data.
let appendToSink: cairo_write_func_t = { closure, bytes, length in
    guard let closure, let bytes else { return CAIRO_STATUS_WRITE_ERROR }
    let sink = Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
    sink.data.append(bytes, count: Int(length))
    return CAIRO_STATUS_SUCCESS
}

/// Reads from a `ByteSource` passed as closure data (for decoding PNG).
final class ByteSource {
    let data: Data
    var offset = 0
    init(_ data: Data) { self.data = data }
}

let readFromSource: cairo_read_func_t = { closure, buffer, length in
    guard let closure, let buffer else { return CAIRO_STATUS_READ_ERROR }
    let source = Unmanaged<ByteSource>.fromOpaque(closure).takeUnretainedValue()
    let count = Int(length)
    guard source.offset + count <= source.data.count else { return CAIRO_STATUS_READ_ERROR }
    source.data.copyBytes(to: buffer, from: source.offset..<(source.offset + count))
    source.offset += count
    return CAIRO_STATUS_SUCCESS
}

/// Throws when a surface or context is in an error state.
func checkCairo(_ status: cairo_status_t) throws {
    guard status == CAIRO_STATUS_SUCCESS else {
        throw RenderError.cairo(String(cString: cairo_status_to_string(status)))
    }
}
