internal import COpenSSL

/// SHA-256 over OpenSSL, and lowercase hex.
enum Digest {
    static func sha256(_ bytes: some RawBytes) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { output in
                var length: UInt32 = 32
                let ok = EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, sha256Method, nil)
                precondition(ok == 1 && length == 32, "EVP_Digest(SHA-256) cannot fail on valid input")
            }
        }
        return out
    }

    static func sha256Hex(_ bytes: some RawBytes) -> String { hex(sha256(bytes)) }

    /// SHA-256 into a value, with no allocation: for the writer's chain and the body store's keys.
    static func sha256Value(_ bytes: some RawBytes) -> SHA256Digest {
        var digest = SHA256Digest.zero
        bytes.withUnsafeBytes { input in
            withUnsafeMutableBytes(of: &digest.words) { output in
                var length: UInt32 = 32
                let ok = EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, sha256Method, nil)
                precondition(ok == 1 && length == 32, "EVP_Digest(SHA-256) cannot fail on valid input")
            }
        }
        return digest
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }

    static func isSHA256Hex(_ value: String) -> Bool {
        value.utf8.count == 64 && value.utf8.allSatisfy(isLowerHex)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// SHA-256 fetched from the default provider once. `EVP_sha256()` would make every digest look the algorithm up
    /// again (a locked table search); the fetched method is immutable and shared by all threads.
    nonisolated(unsafe) private static let sha256Method: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil) ?? EVP_sha256()
}

/// Byte containers the digest reads in place.
protocol RawBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}
extension Array: RawBytes where Element == UInt8 {}
extension ArraySlice: RawBytes where Element == UInt8 {}
extension UnsafeRawBufferPointer: RawBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(self) }
}

/// A SHA-256 value held inline (no heap storage), hashable, in the byte order the digest produced.
struct SHA256Digest: Hashable, Sendable {
    fileprivate var words: (UInt64, UInt64, UInt64, UInt64)

    static let zero = SHA256Digest(words: (0, 0, 0, 0))

    /// Parses 64 lowercase hex digits; nil otherwise.
    init?(hex: String) {
        guard Digest.isSHA256Hex(hex) else { return nil }
        var digest = SHA256Digest.zero
        var utf8 = hex.utf8.makeIterator()
        withUnsafeMutableBytes(of: &digest.words) { bytes in
            for index in 0..<32 {
                bytes[index] = Self.nibble(utf8.next()!) << 4 | Self.nibble(utf8.next()!)
            }
        }
        self = digest
    }

    private init(words: (UInt64, UInt64, UInt64, UInt64)) {
        self.words = words
    }

    private static func nibble(_ digit: UInt8) -> UInt8 {
        digit <= UInt8(ascii: "9") ? digit - UInt8(ascii: "0") : digit - UInt8(ascii: "a") + 10
    }

    /// Appends the 64 lowercase hex digits (spelled on the stack and appended in one copy: this runs twice for
    /// every line the writer seals).
    func appendHex(to out: inout [UInt8]) {
        var digits: (SIMD32<UInt8>, SIMD32<UInt8>) = (.zero, .zero)
        withUnsafeMutableBytes(of: &digits) { text in
            withUnsafeBytes(of: words) { bytes in
                for index in 0..<32 {
                    text[2 * index] = Self.hexDigit(bytes[index] >> 4)
                    text[2 * index + 1] = Self.hexDigit(bytes[index] & 0x0F)
                }
            }
            out.append(contentsOf: text)
        }
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ UInt8(ascii: "0") : nibble &+ (UInt8(ascii: "a") &- 10)
    }

    var hex: String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        appendHex(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func == (lhs: SHA256Digest, rhs: SHA256Digest) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
            && lhs.words.3 == rhs.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
