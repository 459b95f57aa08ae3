import AirlockSupport
import Testing

@Suite("Constant-time comparison")
struct ConstantTimeTests {
    @Test func equalOnlyForTheSameBytes() {
        let digest = SHA256.hash(Array("token".utf8))
        #expect(ConstantTime.equal(digest, SHA256.hash(Array("token".utf8))))
        var changed = digest
        changed[31] ^= 1
        #expect(!ConstantTime.equal(digest, changed))
        changed = digest
        changed[0] ^= 0x80
        #expect(!ConstantTime.equal(digest, changed))
        #expect(!ConstantTime.equal(digest, Array(digest.prefix(31))))
        #expect(ConstantTime.equal([], []))
    }
}
