/// A SHA-256 value held inline (no heap storage), hashable, in the byte order the digest produced: the audit log's
/// chain and its body store's keys.
public struct SHA256Digest: Hashable, Sendable {
    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64)

    public static let zero = SHA256Digest(words: (0, 0, 0, 0))

    @usableFromInline
    init(words: (UInt64, UInt64, UInt64, UInt64)) {
        self.words = words
    }

    /// The digest of `input`, with no allocation.
    public init(hashing input: UnsafeRawBufferPointer) {
        var digest = SHA256Digest.zero
        withUnsafeMutableBytes(of: &digest.words) { SHA256.hash(input, into: $0) }
        self = digest
    }

    /// The digest of `bytes`, with no allocation.
    @inlinable
    public init(hashing bytes: some ContiguousBytesView) {
        self = bytes.withUnsafeBytes { SHA256Digest(hashing: $0) }
    }

    /// Parses 64 lowercase hex digits; nil otherwise.
    public init?(hex: String) {
        guard SHA256.isLowercaseHex(hex) else { return nil }
        var digest = SHA256Digest.zero
        var utf8 = hex.utf8.makeIterator()
        withUnsafeMutableBytes(of: &digest.words) { bytes in
            for index in 0..<32 {
                bytes[index] = Hex.value(of: utf8.next()!)! << 4 | Hex.value(of: utf8.next()!)!
            }
        }
        self = digest
    }

    /// Appends the 64 lowercase hex digits (spelled on the stack and appended in one copy: this runs twice for
    /// every line the audit writer seals).
    @inlinable
    public func appendHex(to out: inout [UInt8]) {
        var digits: (SIMD32<UInt8>, SIMD32<UInt8>) = (.zero, .zero)
        withUnsafeMutableBytes(of: &digits) { text in
            withUnsafeBytes(of: words) { bytes in
                for index in 0..<32 {
                    text[2 * index] = Hex.digit(bytes[index] >> 4)
                    text[2 * index + 1] = Hex.digit(bytes[index] & 0x0F)
                }
            }
            out.append(contentsOf: text)
        }
    }

    /// The 64 lowercase hex digits.
    public var hex: String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        appendHex(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @inlinable
    public static func == (lhs: SHA256Digest, rhs: SHA256Digest) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
            && lhs.words.3 == rhs.words.3
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
