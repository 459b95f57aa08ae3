internal import COpenSSL

/// SHA-256 through the system OpenSSL (all of Airlock's cryptography comes from it): one-shot digests as bytes, hex
/// or an inline ``SHA256Digest``, and an incremental ``Hasher``.
public enum SHA256 {
    /// The length of a digest, in bytes.
    public static let byteCount = 32

    /// Hashes `input` into `output` (at least 32 bytes).
    public static func hash(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= byteCount, "a SHA-256 digest needs 32 bytes")
        var length: UInt32 = 0
        let ok = EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, method, nil)
        precondition(ok == 1 && length == 32, "EVP_Digest(SHA-256) cannot fail on an in-memory buffer")
    }

    /// The 32-byte digest of `bytes`.
    @inlinable
    public static func hash(_ bytes: some ContiguousBytesView) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: byteCount) { output, initialized in
            bytes.withUnsafeBytes { hash($0, into: UnsafeMutableRawBufferPointer(output)) }
            initialized = byteCount
        }
    }

    /// The digest of `bytes` as 64 lowercase hex digits.
    @inlinable
    public static func hex(_ bytes: some ContiguousBytesView) -> String {
        Hex.encode(hash(bytes))
    }

    /// The digest of `text`'s UTF-8 as 64 lowercase hex digits.
    public static func hex(_ text: String) -> String {
        hex(Array(text.utf8))
    }

    /// Whether `value` is a digest as 64 lowercase hex digits.
    public static func isLowercaseHex(_ value: String) -> Bool {
        value.utf8.count == 64 && value.utf8.allSatisfy(Hex.isLowercaseDigit)
    }

    /// SHA-256 fetched from the default provider once. `EVP_sha256()` would make every digest look the algorithm up
    /// again (a locked table search); the fetched method is immutable and shared by all threads.
    nonisolated(unsafe) static let method: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil) ?? EVP_sha256()

    /// SHA-256 fed in pieces: `update` as often as needed, then `finalize()` once.
    public final class Hasher {
        private let context: OpaquePointer

        public init() {
            guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, SHA256.method, nil) == 1 else {
                // Only an allocation failure gets here; nothing sensible can go on.
                fatalError("OpenSSL could not start a SHA-256 digest")
            }
            self.context = context
        }

        deinit {
            EVP_MD_CTX_free(self.context)
        }

        public func update(_ bytes: some Sequence<UInt8>) {
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

        public func update(_ string: String) {
            self.update(string.utf8)
        }

        /// The 32-byte digest. The hasher must not be used afterwards.
        public func finalize() -> [UInt8] {
            var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            _ = EVP_DigestFinal_ex(self.context, &digest, &length)
            return Array(digest.prefix(Int(length)))
        }

        /// The digest as 64 lowercase hex digits. The hasher must not be used afterwards.
        public func finalizeHex() -> String {
            Hex.encode(self.finalize())
        }
    }
}
