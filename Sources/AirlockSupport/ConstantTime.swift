internal import COpenSSL

/// Comparisons whose time does not depend on where two secrets first differ (OpenSSL's `CRYPTO_memcmp`).
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes. Unequal lengths return false at once: callers compare digests of a
    /// fixed length, so the length says nothing secret.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { left in
            b.withUnsafeBytes { right in
                CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0
            }
        }
    }
}
