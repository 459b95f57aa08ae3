import AirlockPolicy
import AirlockTLS

/// The configuration's `assets:` section (see README "Asset gateway"): attachment URLs that point inside the lab
/// or at its buckets leave as `<public_url>/assets/<token>`, and vendors fetch the file through Airlock, inspected
/// and audited. Without the section such URLs are refused (rule `asset-url`).
public struct AssetsConfiguration: Sendable {
    /// How vendors reach the asset gateway (`https://assets.airlock.example.com`); tokens are served under it.
    public var publicURL: UpstreamURL
    /// The gateway's own HTTPS listener (vendors only: no vendor route, no callback path is served there).
    public var listen: ProxyConfiguration.Listen
    /// Where Airlock may fetch from; anything else is never fetched.
    public var sources: [AssetSource]
    /// The addresses a source host may resolve to; empty: any address but loopback, link-local and unspecified
    /// ones (so a source name pointing at Airlock's own host or a cloud metadata address is never fetched).
    public var addresses: [CIDRRange]
    /// Trust for the sources' TLS: the system roots or a CA bundle.
    public var trustRoots: TLSTrustRoots
    /// Largest file served; a larger one is refused (502) and nothing is served.
    public var maxBytes: Int
    /// Longest wait for a source (connect, TLS, whole response).
    public var timeoutSeconds: Double
    /// How long a token may be fetched after it was issued.
    public var tokenLifetimeSeconds: Double
    /// The key file tokens are sealed with (32 random bytes, base64); nil: `pseudonym_key`.
    public var keyPath: String?
    /// The revocation list `airlock assets revoke` appends to and the gateway rereads when it changes.
    public var revocationsPath: String
    /// Host globs inside the lab besides `callbacks.internal_hosts` (asset fields naming them are rewritten or
    /// refused).
    public var internalHosts: [String]
    /// Per vendor: the field names that carry asset URLs, replacing the defaults (``AssetFieldKeys``).
    public var fieldKeys: [String: [String]]

    public static let defaultMaxBytes = 32 * 1024 * 1024
    public static let defaultTimeoutSeconds = 30.0
    public static let defaultTokenLifetimeSeconds = 86_400.0

    public init(
        publicURL: UpstreamURL,
        listen: ProxyConfiguration.Listen,
        sources: [AssetSource],
        revocationsPath: String,
        addresses: [CIDRRange] = [],
        trustRoots: TLSTrustRoots = .system,
        maxBytes: Int = Self.defaultMaxBytes,
        timeoutSeconds: Double = Self.defaultTimeoutSeconds,
        tokenLifetimeSeconds: Double = Self.defaultTokenLifetimeSeconds,
        keyPath: String? = nil,
        internalHosts: [String] = [],
        fieldKeys: [String: [String]] = [:]
    ) {
        self.publicURL = publicURL
        self.listen = listen
        self.sources = sources
        self.revocationsPath = revocationsPath
        self.addresses = addresses
        self.trustRoots = trustRoots
        self.maxBytes = maxBytes
        self.timeoutSeconds = timeoutSeconds
        self.tokenLifetimeSeconds = tokenLifetimeSeconds
        self.keyPath = keyPath
        self.internalHosts = internalHosts
        self.fieldKeys = fieldKeys
    }
}
