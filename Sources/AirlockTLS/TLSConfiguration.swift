/// Where a TLS client finds the certificate authorities it trusts.
public enum TLSTrustRoots: Sendable, Hashable {
    /// The operating system's trust store (OpenSSL's default verify paths).
    case system
    /// A PEM bundle of CA certificates at this path; only these are trusted.
    case file(String)
}

/// How Airlock presents itself to the lab: certificate, key, and optionally which client certificates it accepts.
///
/// TLS 1.2 is the minimum; TLS 1.3 is preferred whenever the peer offers it.
public struct TLSServerConfiguration: Sendable {
    /// PEM file holding the server certificate first, followed by any intermediates.
    public var certificateChainPath: String
    /// PEM file holding the private key that matches the first certificate.
    public var privateKeyPath: String
    /// When set, every client must present a certificate that chains to a CA in this PEM bundle (mTLS).
    public var clientCAPath: String?
    /// ALPN protocols offered, in order of preference.
    public var alpnProtocols: [String]

    public init(
        certificateChainPath: String,
        privateKeyPath: String,
        clientCAPath: String? = nil,
        alpnProtocols: [String] = ["http/1.1"]
    ) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
        self.alpnProtocols = alpnProtocols
    }
}

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

/// What a verified peer certificate says about who the peer is.
public struct TLSPeerIdentity: Sendable, Hashable {
    /// The subject's common name, if it has one.
    public var commonName: String?
    /// DNS names and IP addresses from the subjectAltName extension, as text.
    public var subjectAlternativeNames: [String]

    public init(commonName: String?, subjectAlternativeNames: [String]) {
        self.commonName = commonName
        self.subjectAlternativeNames = subjectAlternativeNames
    }
}
