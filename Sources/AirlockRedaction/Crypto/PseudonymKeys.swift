import AirlockSupport
import Foundation

/// The secrets behind every keyed token Airlock emits (pseudonyms, hashes, fingerprints): a keyring.
///
/// The key file (``PseudonymKeyFile``) lists keys with ids, the current one first; `airlock certs init` writes
/// `Certs/pseudonym.key`, mode 0600, and a file readable by anyone else is refused. Per-vendor keys are derived from
/// each key with HKDF-SHA256, so every replica that holds the same file produces and reverses the same tokens without
/// shared state, while tokens for different vendors cannot be linked. New pseudonyms, hashes and fingerprints use
/// the current key; restoration accepts every key of the ring, so pseudonyms minted before a rotation still come
/// back until their key is retired.
public struct PseudonymKeys: Sendable {
    /// The length of a key file's secret, in bytes.
    public static let secretLength = 32

    /// The current key's secret.
    let secret: [UInt8]
    /// Every key of the ring, current first.
    public let ring: [PseudonymKeyFile.Entry]
    /// Keys the vendor-independent fingerprints that findings and logs carry for correlation.
    let fingerprintMAC: HMACKey

    /// The id of the key new pseudonyms are minted with.
    public var currentID: String { self.ring[0].id }

    /// Reads a key file (see ``PseudonymKeyFile``); refuses one other users may read.
    public init(contentsOf url: URL) throws(RedactionError) {
        if let problem = KeyFilePermissions.problem(path: url.path, what: "the pseudonym key") {
            throw RedactionError(.key, problem)
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RedactionError(
                .key,
                "cannot read pseudonym key \(url.path): \(Self.reason(error)); create one with `airlock certs init`"
            )
        }
        let file = try PseudonymKeyFile.parse(String(decoding: data, as: UTF8.self), path: url.path)
        self.init(ring: file.entries)
    }

    /// Uses `secret` directly as a ring of one key (tests, or a key from another source). It should be 32 random
    /// bytes.
    public init(secret: [UInt8]) {
        self.init(ring: [PseudonymKeyFile.Entry(id: PseudonymKeyFile.legacyID, secret: secret)])
    }

    /// A ring of keys, current first (not empty).
    public init(ring: [PseudonymKeyFile.Entry]) {
        precondition(!ring.isEmpty, "a pseudonym keyring holds at least one key")
        self.ring = ring
        self.secret = ring[0].secret
        self.fingerprintMAC = HMACKey(
            OpenSSLCrypto.hkdfSHA256(
                secret: ring[0].secret,
                salt: Array("airlock-v1".utf8),
                info: Array("fingerprint".utf8),
                length: 32
            )
        )
    }

    /// 32 fresh random bytes, base64, newline-terminated: the content of a new key file (a ring of one key, id
    /// `default`; `airlock keys rotate` turns it into a keyring).
    public static func generateKeyFileContents() -> String {
        Data(OpenSSLCrypto.randomBytes(secretLength)).base64EncodedString() + "\n"
    }

    /// The current key's keys for one vendor. Vendor names are compared case-insensitively.
    func vendorKeys(_ vendor: String) -> VendorKeys {
        Self.vendorKeys(self.secret, vendor)
    }

    /// Every key's keys for one vendor, current first.
    func vendorKeyring(_ vendor: String) -> [VendorKeys] {
        self.ring.map { Self.vendorKeys($0.secret, vendor) }
    }

    private static func vendorKeys(_ secret: [UInt8], _ vendor: String) -> VendorKeys {
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
