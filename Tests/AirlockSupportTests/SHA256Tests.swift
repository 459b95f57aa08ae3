import AirlockSupport
import Foundation
import Testing

/// SHA-256 known-answer vectors: the audit chain, policy content hashes, client token hashes and SPKI pins are all
/// these bytes.
@Suite struct SHA256Tests {
    @Test("SHA-256 matches the FIPS 180-4 test vectors")
    func sha256() {
        #expect(SHA256.hex(Array("".utf8)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        )
        #expect(
            SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        )
        // Lengths around the padding boundary (55, 56, 64 bytes) against the system's sha256sum.
        for length in [55, 56, 63, 64, 65, 119, 120] {
            let input = [UInt8](repeating: 0x7A, count: length)
            #expect(SHA256.hex(input) == systemSHA256(input), "length \(length)")
        }
    }

    private func systemSHA256(_ bytes: [UInt8]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        guard (try? process.run()) != nil else { return nil }
        input.fileHandleForWriting.write(Data(bytes))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init)
    }

    @Test("the incremental hasher, the inline digest and the one-shot digest agree")
    func incrementalAndInline() {
        let hasher = SHA256.Hasher()
        hasher.update("ab")
        hasher.update(Array("c".utf8))
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        #expect(hasher.finalizeHex() == abc)
        #expect(SHA256.hex("abc") == abc)
        #expect(SHA256.hash(Array("abc".utf8)) == Hex.decode(abc))
        #expect(SHA256Digest(hashing: Array("abc".utf8)).hex == abc)
        #expect(SHA256Digest(hex: abc) == SHA256Digest(hashing: Array("abc".utf8)))
        #expect(SHA256Digest(hex: abc.uppercased()) == nil)
        #expect(SHA256Digest(hex: String(abc.dropLast())) == nil)
        #expect(SHA256.isLowercaseHex(abc) && !SHA256.isLowercaseHex("g" + abc.dropFirst()))
        #expect(SHA256Digest.zero.hex == String(repeating: "0", count: 64))
        var out = Array("x".utf8)
        SHA256Digest(hashing: Array("abc".utf8)).appendHex(to: &out)
        #expect(out == Array(("x" + abc).utf8))
    }
}
