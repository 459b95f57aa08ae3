import AirlockRedaction
import AirlockSupport
import Foundation

/// What an asset URL's token carries, sealed with AES-256-SIV under the vendor's asset key: the original URL, the
/// vendor (the key, and the token's visible prefix) and when it was issued and expires. The vendor sees only
/// `<vendor>.<base64url>`; the URL cannot be read or changed without the key.
struct AssetToken: Equatable {
    var vendor: String
    var url: String
    /// Seconds since 1970.
    var issued: UInt64
    var expires: UInt64

    private static let version: UInt8 = 1
    private static let associatedData = Array("airlock-asset-token-v1".utf8)

    /// Why a token does not open.
    enum Failure: String, Error {
        /// Not `<vendor>.<base64url>`.
        case malformed = "asset_token_malformed"
        /// The vendor prefix names no configured vendor.
        case unknownVendor = "asset_token_unknown_vendor"
        /// The seal does not verify for that vendor: forged, altered, or another vendor's token.
        case forged = "asset_token_forged"
        case expired = "asset_token_expired"
        case revoked = "asset_token_revoked"
    }

    /// The token text: `<vendor>.<base64url of the sealed fields>`.
    func seal(with keys: AssetSealingKeys) -> String {
        var plaintext: [UInt8] = [Self.version]
        for value in [self.issued, self.expires] {
            withUnsafeBytes(of: value.bigEndian) { plaintext.append(contentsOf: $0) }
        }
        plaintext.append(contentsOf: Array(self.url.utf8))
        let sealed = keys.seal(plaintext, vendor: self.vendor, associatedData: Self.associatedData)
        return self.vendor + "." + Self.base64URL(sealed)
    }

    /// Opens `text` sealed for one of `vendors`, and checks its lifetime against `now`.
    static func open(
        _ text: Substring,
        keys: AssetSealingKeys,
        vendors: Set<String>,
        now: Date
    ) -> Result<AssetToken, Failure> {
        guard let dot = text.firstIndex(of: "."), text.utf8.count <= 8192 else { return .failure(.malformed) }
        let vendor = String(text[..<dot])
        guard vendors.contains(vendor) else { return .failure(.unknownVendor) }
        guard let sealed = Self.fromBase64URL(text[text.index(after: dot)...]) else { return .failure(.malformed) }
        guard let plaintext = keys.open(sealed, vendor: vendor, associatedData: Self.associatedData),
            plaintext.count > 17, plaintext[0] == Self.version,
            let url = String(validating: plaintext[17...], as: UTF8.self)
        else { return .failure(.forged) }
        func number(at offset: Int) -> UInt64 {
            plaintext[offset..<(offset + 8)].reduce(0) { $0 << 8 | UInt64($1) }
        }
        let token = AssetToken(vendor: vendor, url: url, issued: number(at: 1), expires: number(at: 9))
        guard now.timeIntervalSince1970 < Double(token.expires) else { return .failure(.expired) }
        return .success(token)
    }

    /// What logs, audit records and revocations name a token by: 16 hex digits of its SHA-256. The token's text is
    /// a bearer credential, and never appears itself.
    static func fingerprint(_ text: some StringProtocol) -> String {
        String(SHA256.hex(Array(text.utf8)).prefix(16))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        String(
            Base64.encode(bytes).compactMap { char -> Character? in
                switch char {
                case "+": "-"
                case "/": "_"
                case "=": nil
                default: char
                }
            }
        )
    }

    static func fromBase64URL(_ text: Substring) -> [UInt8]? {
        guard !text.contains("+"), !text.contains("/"), !text.contains("=") else { return nil }
        let standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        return Base64.decode(standard)
    }
}
