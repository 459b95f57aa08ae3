internal import COpenSSL
import Foundation

/// Fingerprint and DER helpers (SHA-256 itself is `AirlockSupport.SHA256`).
public enum CertificateDigest {
    /// Upper-case colon-separated hex, the way `openssl x509 -fingerprint` prints it.
    static func colonHex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02X", $0) }.joined(separator: ":")
    }

    /// Calls an OpenSSL `i2d_*` function twice: once for the length, once to encode.
    static func der(_ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) -> [UInt8]? {
        let length = encode(nil)
        guard length > 0 else { return nil }
        var output = [UInt8](repeating: 0, count: Int(length))
        let written = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return encode(&cursor)
        }
        guard written == length else { return nil }
        return output
    }
}
