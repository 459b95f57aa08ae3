import AirlockSupport
import Foundation

/// The one secret behind every keyed token Airlock emits (pseudonyms, hashes, fingerprints).
///
/// The key file holds 32 random bytes, base64, on one line (`airlock certs init` writes `Certs/pseudonym.key`, mode
/// 0600). Per-vendor keys are derived from it with HKDF-SHA256, so every replica that holds the same file produces and
/// reverses the same tokens without shared state, while tokens for different vendors cannot be linked.
public struct PseudonymKeys: Sendable {
    /// The length of a key file's secret, in bytes.
    public static let secretLength = 32

    let secret: [UInt8]
    /// Keys the vendor-independent fingerprints that findings and logs carry for correlation.
    let fingerprintMAC: HMACKey

    /// Reads a key file: base64 of exactly 32 bytes on one line (surrounding whitespace ignored).
    public init(contentsOf url: URL) throws(RedactionError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RedactionError(
                .key,
                "cannot read pseudonym key \(url.path): \(Self.reason(error)); create one with `airlock certs init`"
            )
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.contains("\n"), let decoded = Data(base64Encoded: text), decoded.count == Self.secretLength else {
            throw RedactionError(
                .key,
                "pseudonym key \(url.path) is not \(Self.secretLength) bytes of base64 on one line; "
                    + "create one with `airlock certs init`"
            )
        }
        self.init(secret: [UInt8](decoded))
    }

    /// Uses `secret` directly (tests, or a key from another source). It should be 32 random bytes.
    public init(secret: [UInt8]) {
        self.secret = secret
        self.fingerprintMAC = HMACKey(
            OpenSSLCrypto.hkdfSHA256(
                secret: secret,
                salt: Array("airlock-v1".utf8),
                info: Array("fingerprint".utf8),
                length: 32
            )
        )
    }

    /// 32 fresh random bytes, base64, newline-terminated: the content of a new key file.
    public static func generateKeyFileContents() -> String {
        Data(OpenSSLCrypto.randomBytes(secretLength)).base64EncodedString() + "\n"
    }

    /// The keys for one vendor. Vendor names are compared case-insensitively.
    func vendorKeys(_ vendor: String) -> VendorKeys {
        let okm = OpenSSLCrypto.hkdfSHA256(
            secret: secret,
            salt: Array("airlock-v1".utf8),
            info: Array(("vendor:" + vendor.lowercased()).utf8),
            length: 96
        )
        return VendorKeys(tokenKey: Array(okm[0..<32]), sivKey: Array(okm[32..<96]))
    }

    /// A keyed fingerprint of a matched value (first 12 hex digits of an HMAC), safe to log.
    func fingerprint(_ value: some Collection<UInt8>) -> String {
        Hex.encode(fingerprintMAC.authenticationCode(Array(value)).prefix(6))
    }

    private static func reason(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError, cocoa.code == .fileReadNoSuchFile { return "no such file" }
        return (error as NSError).localizedDescription
    }
}

/// The per-vendor keys: one for HMAC tokens (dictionary pseudonyms, hashes) and one 64-byte AES-256-SIV key for
/// pseudonyms that carry their value encrypted.
struct VendorKeys: Sendable {
    /// The token key, ready for HMAC.
    let tokenMAC: HMACKey
    let sivKey: [UInt8]

    init(tokenKey: [UInt8], sivKey: [UInt8]) {
        self.tokenMAC = HMACKey(tokenKey)
        self.sivKey = sivKey
    }
}

/// RFC 4648 base32 without padding, upper case: tokens stay within `[A-Z2-7]` so they survive any text format.
enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return out
    }

    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var out = [UInt8]()
        var buffer: UInt32 = 0
        var bits = 0
        for char in text {
            let value: UInt32
            switch char {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(char - UInt8(ascii: "A"))
            case UInt8(ascii: "2")...UInt8(ascii: "7"): value = UInt32(char - UInt8(ascii: "2") + 26)
            default: return nil
            }
            buffer = (buffer << 5) | value
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        // Leftover bits must be the zero padding of the last character.
        if bits > 0 && (buffer & ((1 << UInt32(bits)) - 1)) != 0 { return nil }
        return out
    }

    static func isAlphabet(_ char: UInt8) -> Bool {
        (char >= UInt8(ascii: "A") && char <= UInt8(ascii: "Z"))
            || (char >= UInt8(ascii: "2") && char <= UInt8(ascii: "7"))
    }
}
