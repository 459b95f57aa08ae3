import AirlockSupport
internal import COpenSSL

/// An HMAC-SHA256 (RFC 2104) key with the SHA-256 states after its inner and outer pad blocks computed once, so
/// each code costs two SHA-256 blocks plus the message instead of four, and no lookup of the algorithm by name
/// (OpenSSL's one-shot `HMAC()` fetches SHA-256 and HMAC on every call: 30,000 instructions for a 20-byte value).
/// A finding's fingerprint and every dictionary pseudonym is one of these.
///
/// Immutable after `init`: a code is computed in a copy of the pad states, which OpenSSL only reads, so one key is
/// shared freely between threads.
final class HMACKey: @unchecked Sendable {
    private let inner: OpaquePointer
    private let outer: OpaquePointer

    init(_ key: [UInt8]) {
        ERR_clear_error()
        let md = Algorithms.shared.sha256
        // The key as one 64-byte block (hashed first when longer), then XORed with the inner and outer pads.
        var block = [UInt8](repeating: 0, count: 64)
        if key.count > 64 {
            // Hashed straight into the block, which is cleansed below: no other copy of the key's digest.
            key.withUnsafeBytes { k in block.withUnsafeMutableBytes { SHA256.hash(k, into: $0) } }
        } else {
            for (index, byte) in key.enumerated() { block[index] = byte }
        }
        func absorb(_ pad: UInt8) -> OpaquePointer {
            guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new failed: out of memory") }
            var padded = block.map { $0 ^ pad }
            defer { padded.withUnsafeMutableBufferPointer { OPENSSL_cleanse($0.baseAddress, 64) } }
            let ok =
                EVP_DigestInit_ex2(context, md, nil) > 0
                && padded.withUnsafeBufferPointer { EVP_DigestUpdate(context, $0.baseAddress, 64) } > 0
            precondition(ok, "SHA-256 failed inside OpenSSL")
            return context
        }
        inner = absorb(0x36)
        outer = absorb(0x5C)
        block.withUnsafeMutableBufferPointer { OPENSSL_cleanse($0.baseAddress, 64) }
    }

    deinit {
        EVP_MD_CTX_free(inner)
        EVP_MD_CTX_free(outer)
    }

    /// The 32-byte HMAC-SHA256 of `data`.
    func authenticationCode(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBufferPointer { authenticationCode(UnsafeRawBufferPointer($0)) }
    }

    /// The 32-byte HMAC-SHA256 of `data`.
    func authenticationCode(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        ERR_clear_error()
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new failed: out of memory") }
        defer { EVP_MD_CTX_free(context) }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        var ok =
            EVP_MD_CTX_copy_ex(context, inner) > 0
            && (data.isEmpty || EVP_DigestUpdate(context, data.baseAddress, data.count) > 0)
            && digest.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) } > 0
            && length == 32
        ok =
            ok
            && EVP_MD_CTX_copy_ex(context, outer) > 0
            && digest.withUnsafeBufferPointer { EVP_DigestUpdate(context, $0.baseAddress, 32) } > 0
            && digest.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) } > 0
            && length == 32
        precondition(ok, "HMAC-SHA256 failed inside OpenSSL")
        return digest
    }
}
