extension ProxyConfiguration {
    /// A named lab client (`clients:`): how it is recognised and which vendors it may use.
    ///
    /// A client is recognised by a verified client certificate (mTLS on the lab listener) naming
    /// `certificateName` as its subject CN or one of its subjectAltNames, or by a secret token sent in the
    /// `Airlock-Client-Token` header whose SHA-256 is `tokenSHA256`. The configuration holds only the hash.
    public struct Client: Sendable {
        /// The header a client's token comes in (lower case): Airlock's own, never forwarded to a vendor.
        static let tokenHeader = "airlock-client-token"

        /// Lower-case letters, digits, `-` and `_`: it appears in the audit log and as a metric label.
        public var name: String
        public var certificateName: String?
        /// SHA-256 of the token (32 bytes).
        public var tokenSHA256: [UInt8]?
        /// Names of the vendors this client may use.
        public var vendors: Set<String>

        public init(name: String, certificateName: String? = nil, tokenSHA256: [UInt8]? = nil, vendors: Set<String>) {
            self.name = name
            self.certificateName = certificateName
            self.tokenSHA256 = tokenSHA256
            self.vendors = vendors
        }
    }
}
