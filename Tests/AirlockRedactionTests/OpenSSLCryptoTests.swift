import AirlockPolicy
import Foundation
import Testing

@testable import AirlockRedaction

/// The HMAC behind fingerprints and dictionary pseudonyms is assembled from SHA-256 for speed: it must stay exactly
/// RFC 2104 HMAC-SHA256, or every pseudonym already handed to a vendor would stop restoring.
@Suite struct OpenSSLCryptoTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    /// RFC 4231 test cases 1, 2, 4, 6 and 7 (keys shorter than, and longer than, the 64-byte block).
    @Test(arguments: [
        (
            String(repeating: "0b", count: 20), Array("Hi There".utf8),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        ),
        (
            "4a656665", Array("what do ya want for nothing?".utf8),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
        (
            "0102030405060708090a0b0c0d0e0f10111213141516171819", [UInt8](repeating: 0xCD, count: 50),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
        ),
        (
            String(repeating: "aa", count: 131),
            Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        ),
        (
            String(repeating: "aa", count: 131),
            Array(
                ("This is a test using a larger than block-size key and a larger than block-size data. The key needs to "
                    + "be hashed before being used by the HMAC algorithm.").utf8
            ),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        ),
    ])
    func hmacMatchesRFC4231(_ key: String, _ data: [UInt8], _ mac: String) {
        #expect(OpenSSLCrypto.hmacSHA256(key: Self.bytes(key), data: data) == Self.bytes(mac))
    }

    @Test func hmacOfAnEmptyMessageWithAnEmptyKey() {
        // Python: hmac.new(b"", b"", hashlib.sha256).hexdigest()
        #expect(
            OpenSSLCrypto.hmacSHA256(key: [], data: [])
                == Self.bytes("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
        )
    }

    @Test func oneKeyGivesTheSameCodesWhenReusedAndSharedBetweenThreads() async {
        let key = HMACKey(Self.bytes("4a656665"))
        let expected = Self.bytes("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        let message = Array("what do ya want for nothing?".utf8)
        #expect(key.authenticationCode(Array("something else".utf8)) != expected)
        #expect(key.authenticationCode(message) == expected)
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask {
                    (0..<200).allSatisfy { round in
                        let other = key.authenticationCode(Array("\(index)/\(round)".utf8))
                        return key.authenticationCode(message) == expected && other.count == 32
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }

    @Test func sivRoundTripsAndRejectsAnotherKey() {
        let key = [UInt8](repeating: 3, count: 64)
        for plaintext in [Array("j".utf8), Array("jane.doe@lab.example.com".utf8)] {
            let sealed = OpenSSLCrypto.sivSeal(key: key, associatedData: Array("EMAIL".utf8), plaintext: plaintext)
            #expect(
                sealed == OpenSSLCrypto.sivSeal(key: key, associatedData: Array("EMAIL".utf8), plaintext: plaintext)
            )
            #expect(OpenSSLCrypto.sivOpen(key: key, associatedData: Array("EMAIL".utf8), sealed: sealed) == plaintext)
            let other = [UInt8](repeating: 4, count: 64)
            #expect(OpenSSLCrypto.sivOpen(key: other, associatedData: Array("EMAIL".utf8), sealed: sealed) == nil)
        }
    }
}

@Suite struct EmptyValueSealingTests {
    /// OpenSSL's AES-SIV fails on an empty plaintext, which stopped the process (a precondition) when a `fields`
    /// rule pseudonymized an empty string. An empty value has nothing to hide: it stays empty, and other values of
    /// the same field are still pseudonymized.
    @Test func anEmptyFieldValueStaysEmptyInsteadOfStoppingTheProcess() throws {
        let redactor = try makeRedactor(
            makePolicy(fields: [FieldRule(path: try JSONPath(parsing: "$..owner"), action: .pseudonymize)])
        )
        let sent = try #require(forwarded(redactor, #"{"owner":"","x":{"owner":"jane"}}"#))
        #expect(sent.hasPrefix(#"{"owner":"","x":{"owner":""#), "\(sent)")
        #expect(!sent.contains("jane"))
        let restored = try redactor.restore(
            body: Array(sent.utf8),
            contentType: "application/json",
            contentEncoding: nil,
            vendor: "scale"
        )
        #expect(String(decoding: restored, as: UTF8.self) == #"{"owner":"","x":{"owner":"jane"}}"#)
    }
}
