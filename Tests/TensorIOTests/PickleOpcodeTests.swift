@testable import TensorIO
import XCTest

final class PickleOpcodeTests: XCTestCase {
    /// Names and bytes as CPython's Lib/pickletools.py lists them.
    func testNamesAndBytesArePickletools() {
        let expected: [(String, UInt8)] = [
            ("MARK", 0x28), ("POP_MARK", 0x31), ("EMPTY_TUPLE", 0x29), ("SHORT_BINSTRING", 0x55), ("BININT1", 0x4B),
            ("LONG_BINGET", 0x6A), ("EMPTY_DICT", 0x7D), ("NEWOBJ_EX", 0x92), ("STACK_GLOBAL", 0x93), ("TUPLE3", 0x87),
            ("BINUNICODE8", 0x8D), ("SHORT_BINUNICODE", 0x8C), ("BYTEARRAY8", 0x96), ("READONLY_BUFFER", 0x98), ("NONE", 0x4E),
        ]
        for (name, byte) in expected {
            XCTAssertEqual(PickleOpcode(rawValue: byte)?.name, name)
        }
        // Protocols 0–5 define 68 opcodes.
        XCTAssertEqual(PickleOpcode.allCases.count, 68)
        XCTAssertTrue(PickleOpcode.allCases.allSatisfy { $0.name.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" } })
        XCTAssertNil(PickleOpcode(rawValue: 0xFF))
    }
}
