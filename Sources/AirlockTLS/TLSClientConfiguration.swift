/// How Airlock verifies a vendor it connects to.
///
/// The chain is always verified and the hostname (or IP address) always checked; pins are an extra requirement on top.
public struct TLSClientConfiguration: Sendable {
    public var trustRoots: TLSTrustRoots
    /// Base64 SHA-256 digests of a SubjectPublicKeyInfo. When not empty, the verified chain (leaf, intermediate or
    /// root) must contain at least one certificate whose key matches one of them.
    public var pinnedSPKISHA256: [String]
    /// Optional client certificate chain and key presented to the vendor (mTLS towards the vendor).
    public var certificateChainPath: String?
    public var privateKeyPath: String?
    /// ALPN protocols offered, in order of preference.
    public var alpnProtocols: [String]

    public init(
        trustRoots: TLSTrustRoots = .system,
        pinnedSPKISHA256: [String] = [],
        certificateChainPath: String? = nil,
        privateKeyPath: String? = nil,
        alpnProtocols: [String] = ["http/1.1"]
    ) {
        self.trustRoots = trustRoots
        self.pinnedSPKISHA256 = pinnedSPKISHA256
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.alpnProtocols = alpnProtocols
    }
}
