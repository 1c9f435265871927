import JSONText

// Parse; if accepted, write it back and re-parse: the writer's output must be accepted and equal
// to the first value (JSONValue's == treats NaN as equal to NaN; non-finite doubles are written as
// null, but the parser never produces them from valid JSON).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let text = JSONWriter.string(value)
    let again: JSONValue
    do {
        again = try JSONParser.parse(text)
    } catch {
        fatalError("writer output does not re-parse: \(error)\ninput value: \(value)\nwritten: \(text)")
    }
    if again != value {
        fatalError("round trip changed the value\nfirst:  \(value)\nsecond: \(again)\nwritten: \(text)")
    }
    // The writer must be stable: writing the re-parsed value gives the same text.
    let text2 = JSONWriter.string(again)
    if text2 != text {
        fatalError("writer not stable\nfirst:  \(text)\nsecond: \(text2)")
    }
    return 0
}
