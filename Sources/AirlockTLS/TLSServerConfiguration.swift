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
