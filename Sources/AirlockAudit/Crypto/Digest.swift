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
