@testable import TensorIO
import TVGeoTestSupport
import XCTest

final class SHA256Tests: XCTestCase {
    func testSHA256KnownAnswers() throws {
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        var pieces = SHA256()
        for chunk in stride(from: 0, to: 1000, by: 37) { pieces.update([UInt8](repeating: 0x61, count: min(37, 1000 - chunk))) }
        XCTAssertEqual(SHA256.hexString(pieces.finish()), SHA256.hex([UInt8](repeating: 0x61, count: 1000)))
        XCTAssertEqual(try SHA256.hex(ofFile: repositoryRoot + "/examples/minilm-glue8/adapters/cola/adapter_config.json"),
                       "5e0fcaa671d37ec686af939f8b90f5f16fc49a6a5422ee560120b0f975271228")
    }
}
