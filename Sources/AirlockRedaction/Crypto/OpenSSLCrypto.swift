internal import COpenSSL

/// Thin, allocation-light wrappers over the OpenSSL primitives the redaction engine needs. Every function clears the
/// thread's OpenSSL error queue so an earlier failure elsewhere cannot be misreported here.
enum OpenSSLCrypto {
    /// HMAC-SHA256 (RFC 2104) of `data` under `key`. For a key used more than once, keep an `HMACKey`.
    static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        HMACKey(key).authenticationCode(data)
    }

    /// HKDF-SHA256 (RFC 5869) through OpenSSL's EVP_PKEY HKDF.
    static func hkdfSHA256(secret: [UInt8], salt: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        ERR_clear_error()
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nil) else {
            preconditionFailure("OpenSSL has no HKDF")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: length)
        var outLength = length
        let ok =
            EVP_PKEY_derive_init(context) > 0
            && EVP_PKEY_CTX_set_hkdf_md(context, EVP_sha256()) > 0
            && salt.withUnsafeBufferPointer { EVP_PKEY_CTX_set1_hkdf_salt(context, $0.baseAddress, Int32($0.count)) }
                > 0
            && secret.withUnsafeBufferPointer { EVP_PKEY_CTX_set1_hkdf_key(context, $0.baseAddress, Int32($0.count)) }
                > 0
            && info.withUnsafeBufferPointer { EVP_PKEY_CTX_add1_hkdf_info(context, $0.baseAddress, Int32($0.count)) }
                > 0
            && out.withUnsafeMutableBufferPointer { EVP_PKEY_derive(context, $0.baseAddress, &outLength) } > 0
        precondition(ok && outLength == length, "HKDF-SHA256 failed inside OpenSSL")
        return out
    }

    /// AES-256-SIV (RFC 5297) deterministic authenticated encryption: returns the 16-byte tag followed by the
    /// ciphertext. `key` is 64 bytes. The same key, associated data and plaintext always give the same output.
    static func sivSeal(key: [UInt8], associatedData: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        ERR_clear_error()
        let cipher = Algorithms.shared.aes256SIV
        guard let context = EVP_CIPHER_CTX_new() else {
            preconditionFailure("EVP_CIPHER_CTX_new failed: out of memory")
        }
        defer { EVP_CIPHER_CTX_free(context) }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: 16)
        var length: Int32 = 0
        var ok = key.withUnsafeBufferPointer { EVP_EncryptInit_ex2(context, cipher, $0.baseAddress, nil, nil) } > 0
        ok =
            ok
            && associatedData.withUnsafeBufferPointer {
                EVP_EncryptUpdate(context, nil, &length, $0.baseAddress, Int32($0.count))
            } > 0
        var produced: Int32 = 0
        ok =
            ok
            && (plaintext.isEmpty ? [0] : plaintext).withUnsafeBufferPointer { p in
                ciphertext.withUnsafeMutableBufferPointer { c in
                    // SIV needs non-null buffers even for an empty plaintext, hence the padded input.
                    EVP_EncryptUpdate(context, c.baseAddress, &produced, p.baseAddress, Int32(plaintext.count))
                }
            } > 0
        var finalLength: Int32 = 0
        ok =
            ok
            && ciphertext.withUnsafeMutableBufferPointer {
                EVP_EncryptFinal_ex(context, $0.baseAddress! + Int(produced), &finalLength)
            } > 0
        ok =
            ok
            && tag.withUnsafeMutableBufferPointer {
                EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, 16, $0.baseAddress)
            } > 0
        precondition(ok, "AES-256-SIV encryption failed inside OpenSSL")
        return tag + ciphertext[0..<Int(produced + finalLength)]
    }

    /// Reverses `sivSeal`. Returns `nil` when the tag does not verify (wrong vendor, tampered or foreign token).
    static func sivOpen(key: [UInt8], associatedData: [UInt8], sealed: [UInt8]) -> [UInt8]? {
        guard sealed.count >= 16 else { return nil }
        ERR_clear_error()
        defer { ERR_clear_error() }
        let cipher = Algorithms.shared.aes256SIV
        guard let context = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(context) }
        var tag = Array(sealed[0..<16])
        let ciphertext = Array(sealed[16...])
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        var ok = key.withUnsafeBufferPointer { EVP_DecryptInit_ex2(context, cipher, $0.baseAddress, nil, nil) } > 0
        ok =
            ok
            && tag.withUnsafeMutableBufferPointer {
                EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, 16, $0.baseAddress)
            } > 0
        ok =
            ok
            && associatedData.withUnsafeBufferPointer {
                EVP_DecryptUpdate(context, nil, &length, $0.baseAddress, Int32($0.count))
            } > 0
        var produced: Int32 = 0
        ok =
            ok
            && (ciphertext.isEmpty ? [0] : ciphertext).withUnsafeBufferPointer { c in
                plaintext.withUnsafeMutableBufferPointer { p in
                    EVP_DecryptUpdate(context, p.baseAddress, &produced, c.baseAddress, Int32(ciphertext.count))
                }
            } > 0
        var finalLength: Int32 = 0
        ok =
            ok
            && plaintext.withUnsafeMutableBufferPointer {
                EVP_DecryptFinal_ex(context, $0.baseAddress! + Int(produced), &finalLength)
            } > 0
        guard ok else { return nil }
        return Array(plaintext[0..<Int(produced + finalLength)])
    }

    /// `count` bytes from OpenSSL's CSPRNG.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return out
    }
}
