extension ProxyConfiguration {
    /// The forward-proxy listener (`forward:`): clients set `HTTPS_PROXY` to it and `CONNECT` to vendor hosts.
    ///
    /// A CONNECT to a host a vendor lists in `hosts:` is intercepted: Airlock presents a leaf for that name minted
    /// from the interception CA, then serves the requests in the tunnel exactly as the lab listener serves that
    /// vendor's prefix (routes, policy, audit, restoration). A host no vendor lists is refused (default deny).
    /// Clients authenticate with `Proxy-Authorization` against the tokens of `clients:`.
    public struct Forward: Sendable {
        public var address: HostAndPort
        /// With a certificate and key, clients speak TLS to the proxy itself (`HTTPS_PROXY=https://...`); nil: plain.
        public var tls: ServerTLS?
        /// The interception CA (see `airlock certs init --forward-host`): certificate and key, PEM.
        public var caCertificatePath: String
        public var caKeyPath: String
        /// How long a minted leaf is valid.
        public var leafValiditySeconds: Double = 24 * 3600

        public init(address: HostAndPort, tls: ServerTLS? = nil, caCertificatePath: String, caKeyPath: String) {
            self.address = address
            self.tls = tls
            self.caCertificatePath = caCertificatePath
            self.caKeyPath = caKeyPath
        }
    }
}
