internal import COpenSSL

/// SHA-256 for policy content hashes, through the system OpenSSL (all of Airlock's cryptography comes from it).
///
/// Incremental: `update` as often as needed, then `finalizeHex()` once.
final class SHA256 {
    private let context: OpaquePointer

    init() {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            // Only an allocation failure gets here; nothing sensible can go on.
            fatalError("OpenSSL could not start a SHA-256 digest")
        }
        self.context = context
    }

    deinit {
        EVP_MD_CTX_free(self.context)
    }

    func update(_ bytes: some Sequence<UInt8>) {
        // Contiguous input (arrays, native strings' UTF-8) is hashed in place; anything else is gathered first.
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            _ = EVP_DigestUpdate(self.context, buffer.baseAddress, buffer.count)
        }
        if done == nil {
            Array(bytes).withUnsafeBytes { buffer in
                _ = EVP_DigestUpdate(self.context, buffer.baseAddress, buffer.count)
            }
        }
    }

    func update(_ string: String) {
        self.update(string.utf8)
    }

    /// The digest as 64 lowercase hex digits. The hasher must not be used afterwards.
    func finalizeHex() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(self.context, &digest, &length)
        return Self.hexDigits(digest.prefix(Int(length)))
    }

    /// Hex digest of `bytes` in one call.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalizeHex()
    }

    private static func hexDigits(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
