/// The keys that seal asset tokens (the proxy's asset gateway): AES-256-SIV, one key per vendor, derived with
/// HKDF-SHA256 from a key file's secret as pseudonym keys are (``PseudonymKeys``), under its own label, so an asset
/// key is never a pseudonym key and a token sealed for one vendor does not open for another.
public struct AssetSealingKeys: Sendable {
    private let secret: [UInt8]

    /// The asset keys behind `keys`'s key file (the `assets.key` file, or `pseudonym_key`).
    public init(_ keys: PseudonymKeys) {
        self.secret = keys.secret
    }

    /// Seals `plaintext` for `vendor` (case-insensitive), binding `associatedData`: tag and ciphertext.
    public func seal(_ plaintext: [UInt8], vendor: String, associatedData: [UInt8]) -> [UInt8] {
        OpenSSLCrypto.sivSeal(key: self.key(vendor), associatedData: associatedData, plaintext: plaintext)
    }

    /// The plaintext of `sealed`, or nil when it was not sealed by this key file for `vendor` with `associatedData`
    /// (another vendor's token, a forged or altered one).
    public func open(_ sealed: [UInt8], vendor: String, associatedData: [UInt8]) -> [UInt8]? {
        OpenSSLCrypto.sivOpen(key: self.key(vendor), associatedData: associatedData, sealed: sealed)
    }

    private func key(_ vendor: String) -> [UInt8] {
        OpenSSLCrypto.hkdfSHA256(
            secret: self.secret,
            salt: Array("airlock-v1".utf8),
            info: Array(("asset:" + vendor.lowercased()).utf8),
            length: 64
        )
    }
}
