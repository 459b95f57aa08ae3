import AirlockAudit
import AirlockTLS
import Foundation

/// Everything `airlock serve` needs, loaded from the YAML contract (see README "Configuration").
///
/// Paths in the file are resolved against the directory of the configuration file, so a config and its certificates
/// can move together.
public struct ProxyConfiguration: Sendable {
    public struct Listen: Sendable {
        public var address: HostAndPort
        public var tls: ServerTLS

        public init(address: HostAndPort, tls: ServerTLS) {
            self.address = address
            self.tls = tls
        }
    }

    /// Certificate and key Airlock presents to the lab; `clientCA` set requires client certificates (mTLS).
    public struct ServerTLS: Sendable {
        public var certificatePath: String
        public var keyPath: String
        public var clientCAPath: String?

        public init(certificatePath: String, keyPath: String, clientCAPath: String? = nil) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
            self.clientCAPath = clientCAPath
        }
    }

    public struct Admin: Sendable {
        public var address: HostAndPort

        public init(address: HostAndPort) {
            self.address = address
        }
    }

    public struct Limits: Sendable {
        /// Largest request body Airlock buffers; larger requests get 413 and nothing is forwarded.
        public var maxBodyBytes: Int
        /// Largest vendor response Airlock buffers (responses are inspected whole); larger ones get 502.
        public var maxResponseBytes: Int
        /// Longest wait for a vendor (connect, TLS, full response); beyond it the lab gets 504.
        public var upstreamTimeoutSeconds: Double
        /// A lab connection that sends nothing for this long while no request of it is being processed is closed.
        public var clientIdleTimeoutSeconds: Double
        /// On SIGTERM/SIGINT, how long in-flight requests may run before connections are cut.
        public var shutdownGraceSeconds: Double
        /// A TLS handshake with the lab must finish within this long after the connection is accepted.
        public var tlsHandshakeTimeoutSeconds: Double = 10
        /// A request head must be complete within this long after its first byte; beyond it the lab gets 408 and
        /// the connection is closed.
        public var requestHeadTimeoutSeconds: Double = 10
        /// After its head, a request body gets this long, plus one second per `requestBodyMinBytesPerSecond` bytes
        /// received, to arrive (so a body must keep up the minimum rate once the grace is used up); beyond it the lab
        /// gets 408, the connection is closed, and nothing is forwarded.
        public var requestBodyGraceSeconds: Double = 10
        /// See `requestBodyGraceSeconds`; 0 turns the body deadline off (the idle timeout still applies).
        public var requestBodyMinBytesPerSecond: Int = 16 * 1024
        /// Lab connections open at once; beyond it a new connection is closed at once, before the TLS handshake.
        public var maxConnections: Int = 4096
        /// Lab connections open at once from one peer address; beyond it a new one is closed at once.
        public var maxConnectionsPerPeer: Int = 512

        public init(
            maxBodyBytes: Int = 32 * 1024 * 1024,
            maxResponseBytes: Int = 64 * 1024 * 1024,
            upstreamTimeoutSeconds: Double = 60,
            clientIdleTimeoutSeconds: Double = 60,
            shutdownGraceSeconds: Double = 30
        ) {
            self.clientIdleTimeoutSeconds = clientIdleTimeoutSeconds
            self.maxBodyBytes = maxBodyBytes
            self.maxResponseBytes = maxResponseBytes
            self.upstreamTimeoutSeconds = upstreamTimeoutSeconds
            self.shutdownGraceSeconds = shutdownGraceSeconds
        }
    }

    /// Which policy a vendor's traffic is redacted with (used once the redaction engine is joined to the proxy).
    public enum PolicyReference: Sendable, Hashable {
        /// Explicitly none: only allowed for routes that carry no content.
        case none
        /// A policy file (absolute path).
        case file(String)
    }

    public struct Vendor: Sendable {
        /// What a vendor API needs from the lab by default; a vendor's `headers:` adds to it. Anything else —
        /// internal trace ids, project headers, cookies — stays in the lab. The values of what is forwarded are
        /// inspected by the vendor's policy (`HeaderRedaction`).
        static let defaultForwardedHeaders: Set<String> = [
            "accept", "accept-encoding", "accept-language", "authorization", "content-type", "content-encoding",
            "user-agent", "idempotency-key", "x-api-key", "if-match", "if-none-match", "if-modified-since", "expect",
        ]

        public var name: String
        /// `/scale`: requests under it go to this vendor with the prefix removed.
        public var pathPrefix: String
        public var upstream: UpstreamURL
        public var trustRoots: TLSTrustRoots
        public var pinnedSPKISHA256: [String]
        public var routes: [RoutePattern]
        public var policy: PolicyReference?
        /// `policy_candidate`: a policy file (absolute path) evaluated beside `policy` on every request without ever
        /// deciding; where it would decide otherwise the audit log and metrics say so.
        public var policyCandidate: String?
        /// Routes with their own policy (see ``RoutePolicy``); the others are inspected with `policy`.
        public var routePolicies: [RoutePattern: RoutePolicy] = [:]
        /// Upstream connections kept per vendor (split across event loops).
        public var maxConnections: Int
        /// An idle pooled connection is closed after this long.
        public var idleTimeoutSeconds: Double
        /// Lower-case names of the lab's headers that may reach this vendor; every other header is dropped.
        /// Defaults plus the vendor's `headers:` list.
        public var forwardedHeaders: Set<String> = Self.defaultForwardedHeaders
        /// The field names this vendor's requests carry callback URLs under (`callbacks: {keys, webhook_keys}`).
        public var callbackKeys = CallbackKeys()
        /// Host names the forward listener intercepts for this vendor (lower case, no trailing dot): a CONNECT to one
        /// runs this vendor's routes and policy. See ``Forward``.
        public var hosts: [String] = []

        public init(
            name: String,
            pathPrefix: String,
            upstream: UpstreamURL,
            trustRoots: TLSTrustRoots = .system,
            pinnedSPKISHA256: [String] = [],
            routes: [RoutePattern],
            policy: PolicyReference? = nil,
            maxConnections: Int = 64,
            idleTimeoutSeconds: Double = 30
        ) {
            self.name = name
            self.pathPrefix = pathPrefix
            self.upstream = upstream
            self.trustRoots = trustRoots
            self.pinnedSPKISHA256 = pinnedSPKISHA256
            self.routes = routes
            self.policy = policy
            self.maxConnections = maxConnections
            self.idleTimeoutSeconds = idleTimeoutSeconds
        }
    }

    /// The egress audit log (on unless `audit.enabled: false`): the log's own settings and the space guard's.
    public struct Audit: Sendable {
        public var enabled: Bool
        /// Directory, signing key, body store, rotation, checkpoints and group commit, as `AuditLog.open` takes them.
        public var log: AuditConfiguration
        /// Below this many bytes free on the audit directory's file system, decisions are refused (503
        /// `audit_unavailable`) and `/readyz` says why; 0 turns the check off (see ``AuditSpaceGuard``).
        public var minFreeBytes: Int = Self.defaultMinFreeBytes
        /// With this many bytes or more in the audit directory, the same; nil: no cap.
        public var maxDirectoryBytes: Int?
        public static let defaultMinFreeBytes = 256 * 1024 * 1024

        public init(enabled: Bool = true, log: AuditConfiguration) {
            self.enabled = enabled
            self.log = log
        }
    }

    public var listen: Listen
    /// The forward-proxy listener (`forward:`); nil when the configuration has none.
    public var forward: Forward?
    public var admin: Admin?
    /// Vendor callbacks (webhooks): where vendors call Airlock back and where Airlock delivers inside the lab.
    /// Nil when the configuration has no `callbacks:` section; callback URLs pointing inside the lab are then refused.
    public var callbacks: Callbacks?
    /// The asset gateway (`assets:`); nil: attachment URLs inside the lab or at its buckets are refused.
    public var assets: AssetsConfiguration?
    public var limits: Limits
    public var vendors: [Vendor]
    /// The named lab clients (`clients:`); nil when the section is absent: then any peer that completes the lab
    /// listener's handshake may use every vendor.
    public var clients: [Client]?
    public var audit: Audit?
    /// The key file behind pseudonyms, hashes and fingerprints (32 random bytes, base64).
    public var pseudonymKeyPath: String?
    /// The file this configuration was read from, if any.
    public var sourcePath: String?
    /// This replica's id (`replica_id`, default the host name), written into every audit record it makes.
    public var replicaID: String = ReplicaID.hostName

    public init(
        listen: Listen,
        admin: Admin?,
        limits: Limits = Limits(),
        vendors: [Vendor],
        audit: Audit? = nil,
        pseudonymKeyPath: String? = nil,
        sourcePath: String? = nil,
        callbacks: Callbacks? = nil,
        clients: [Client]? = nil
    ) {
        self.clients = clients
        self.callbacks = callbacks
        self.listen = listen
        self.admin = admin
        self.limits = limits
        self.vendors = vendors
        self.audit = audit
        self.pseudonymKeyPath = pseudonymKeyPath
        self.sourcePath = sourcePath
    }

    /// The configuration's `callbacks:` section (see README "Vendor callbacks").
    public struct Callbacks: Sendable {
        /// How vendors reach Airlock (`https://airlock.lab.example.com:8443`); callback URLs are rewritten under it.
        public var publicURL: UpstreamURL
        /// Lower-cased host globs (`*.corp.example.com`, `*.internal`, `git.example.com`) that are inside the lab,
        /// besides loopback, private and link-local addresses and single-label names, which always are.
        public var internalHosts: [String]
        public var routes: [CallbackRoute]
        /// `callbacks.listen`: the listener vendors call back on, serving callback paths only; the lab listener then
        /// serves no callback path. Nil: callbacks are served on the lab listener (which vendors must then reach).
        public var listen: Listen?

        public init(publicURL: UpstreamURL, internalHosts: [String], routes: [CallbackRoute], listen: Listen? = nil) {
            self.listen = listen
            self.publicURL = publicURL
            self.internalHosts = internalHosts
            self.routes = routes
        }
    }

    /// One vendor's callback endpoint on Airlock and where its callbacks are delivered.
    public struct CallbackRoute: Sendable {
        public var vendor: String
        /// The public path on Airlock's listener, `/callbacks/scale` (no trailing slash).
        public var path: String
        /// The lab's own endpoint the callback is delivered to.
        public var deliverTo: CallbackTarget
        /// Trust for an `https` target: the system roots or a CA bundle.
        public var trustRoots: TLSTrustRoots
        public var auth: CallbackAuth

        public init(
            vendor: String,
            path: String,
            deliverTo: CallbackTarget,
            trustRoots: TLSTrustRoots = .system,
            auth: CallbackAuth
        ) {
            self.vendor = vendor
            self.path = path
            self.deliverTo = deliverTo
            self.trustRoots = trustRoots
            self.auth = auth
        }

        /// The URL vendors are given instead of `deliverTo`: the public URL followed by `path`.
        public func publicURL(under base: UpstreamURL) -> String {
            base.description + self.path
        }
    }

    /// How a vendor proves a callback is its own: a header carrying a shared secret.
    public struct CallbackAuth: Sendable {
        /// Lower-cased header name (`scale-callback-auth`).
        public var header: String
        public var secret: CallbackSecret

        public init(header: String, secret: CallbackSecret) {
            self.header = header.lowercased()
            self.secret = secret
        }
    }

    /// Reads and validates a configuration file.
    public static func load(path: String) throws(ConfigurationError) -> ProxyConfiguration {
        let url = URL(fileURLWithPath: path)
        return try Self.parse(
            yaml: Self.text(of: path),
            file: path,
            baseDirectory: url.deletingLastPathComponent().path
        )
    }

    /// The text of a configuration file; a missing file says "not found".
    static func text(of path: String) throws(ConfigurationError) -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError(file: path, message: "configuration file not found")
        }
        do {
            return try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)
        } catch {
            throw ConfigurationError(
                file: path,
                message: "cannot read the configuration file (\(error.localizedDescription))"
            )
        }
    }

    /// Parses and validates configuration text; relative paths resolve against `baseDirectory`.
    public static func parse(
        yaml: String,
        file: String? = nil,
        baseDirectory: String
    ) throws(ConfigurationError)
        -> ProxyConfiguration
    {
        var parser = ConfigurationParser(file: file, baseDirectory: baseDirectory)
        return try parser.parse(yaml)
    }
}
