import AirlockAudit
import AirlockPolicy
import AirlockTLS
import Foundation
import Yams

extension ConfigurationParser {
    // MARK: Sections

    /// An HTTPS listener: `listen` (the lab's, where `client_ca` may require client certificates) or
    /// `callbacks.listen` (the vendors', which cannot: vendors hold no certificate of the lab's CA).
    func listen(
        _ node: Node,
        _ what: String,
        allowsClientCA: Bool = true
    ) throws(ConfigurationError) -> ProxyConfiguration.Listen {
        let map = try self.mapping(node, what, allowed: ["address", "tls"])
        let address = try self.address(try self.required(map, "address", in: node, what), "\(what).address")
        let tlsNode = try self.required(map, "tls", in: node, what)
        let tlsKeys: Set<String> = allowsClientCA ? ["certificate", "key", "client_ca"] : ["certificate", "key"]
        let tls = try self.mapping(tlsNode, "\(what).tls", allowed: tlsKeys)
        let certificate = try self.path(
            try self.required(tls, "certificate", in: tlsNode, "\(what).tls"),
            "\(what).tls.certificate"
        )
        let key = try self.path(try self.required(tls, "key", in: tlsNode, "\(what).tls"), "\(what).tls.key")
        let clientCA = try tls["client_ca"].map { node throws(ConfigurationError) in
            try self.path(node, "\(what).tls.client_ca")
        }
        return ProxyConfiguration.Listen(
            address: address,
            tls: ProxyConfiguration.ServerTLS(certificatePath: certificate, keyPath: key, clientCAPath: clientCA)
        )
    }

    func admin(_ node: Node) throws(ConfigurationError) -> ProxyConfiguration.Admin {
        let map = try self.mapping(node, "admin", allowed: ["address"])
        return ProxyConfiguration.Admin(
            address: try self.address(try self.required(map, "address", in: node, "admin"), "admin.address")
        )
    }

    func limits(_ node: Node) throws(ConfigurationError) -> ProxyConfiguration.Limits {
        let map = try self.mapping(
            node,
            "limits",
            allowed: [
                "max_body_bytes", "max_response_bytes", "upstream_timeout_seconds", "client_idle_timeout_seconds",
                "shutdown_grace_seconds", "tls_handshake_timeout_seconds", "request_head_timeout_seconds",
                "request_body_grace_seconds", "request_body_min_bytes_per_second", "max_connections",
                "max_connections_per_peer",
            ]
        )
        var limits = ProxyConfiguration.Limits()
        if let value = map["max_body_bytes"] {
            limits.maxBodyBytes = try self.positiveInteger(value, "limits.max_body_bytes", unit: "bytes")
        }
        if let value = map["max_response_bytes"] {
            limits.maxResponseBytes = try self.positiveInteger(value, "limits.max_response_bytes", unit: "bytes")
        }
        if let value = map["upstream_timeout_seconds"] {
            limits.upstreamTimeoutSeconds = try self.seconds(value, "limits.upstream_timeout_seconds")
        }
        if let value = map["client_idle_timeout_seconds"] {
            limits.clientIdleTimeoutSeconds = try self.seconds(value, "limits.client_idle_timeout_seconds")
        }
        if let value = map["shutdown_grace_seconds"] {
            limits.shutdownGraceSeconds = try self.seconds(value, "limits.shutdown_grace_seconds")
        }
        if let value = map["tls_handshake_timeout_seconds"] {
            limits.tlsHandshakeTimeoutSeconds = try self.seconds(value, "limits.tls_handshake_timeout_seconds")
        }
        if let value = map["request_head_timeout_seconds"] {
            limits.requestHeadTimeoutSeconds = try self.seconds(value, "limits.request_head_timeout_seconds")
        }
        if let value = map["request_body_grace_seconds"] {
            limits.requestBodyGraceSeconds = try self.seconds(value, "limits.request_body_grace_seconds")
        }
        if let value = map["request_body_min_bytes_per_second"] {
            guard let rate = value.int, rate >= 0 else {
                throw self.error(
                    value,
                    "limits.request_body_min_bytes_per_second must be an integer of at least 0 (bytes/s; 0 = off)"
                )
            }
            limits.requestBodyMinBytesPerSecond = rate
        }
        if let value = map["max_connections"] {
            limits.maxConnections = try self.positiveInteger(value, "limits.max_connections", unit: "connections")
        }
        if let value = map["max_connections_per_peer"] {
            limits.maxConnectionsPerPeer = try self.positiveInteger(
                value,
                "limits.max_connections_per_peer",
                unit: "connections"
            )
        }
        return limits
    }

    func vendors(_ node: Node) throws(ConfigurationError) -> [ProxyConfiguration.Vendor] {
        guard let sequence = node.sequence else {
            throw self.error(node, "vendors must be a list of vendors")
        }
        if sequence.isEmpty {
            throw self.error(node, "vendors is empty: configure at least one vendor")
        }
        var vendors: [ProxyConfiguration.Vendor] = []
        var names: Set<String> = []
        for item in sequence {
            let vendor = try self.vendor(item)
            if !names.insert(vendor.name).inserted {
                throw self.error(item, "vendor name \"\(vendor.name)\" is used twice")
            }
            for other in vendors where Self.prefixesOverlap(other.pathPrefix, vendor.pathPrefix) {
                throw self.error(
                    item,
                    "path_prefix \"\(vendor.pathPrefix)\" overlaps vendor \"\(other.name)\" (\(other.pathPrefix)); "
                        + "every prefix must route to exactly one vendor"
                )
            }
            vendors.append(vendor)
        }
        return vendors
    }

    /// A vendor or client name: lower-case letters, digits, `-` and `_` (it becomes a metric label value).
    static func isName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
    }

    /// A literal path on the listener (`/name`, trailing slashes dropped), or nil when it is `/` alone or has a
    /// wildcard, a query, a percent-escape or a dot segment.
    static func literalPath(_ text: String) -> String? {
        var path = text
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        guard path.hasPrefix("/"), path.count > 1, !path.contains("*"), !path.contains("?"), !path.contains("%"),
            !path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." })
        else { return nil }
        return path
    }

    /// `ca:` absent or `system`: the system roots; anything else: a CA bundle, relative to the configuration file.
    func trustRoots(_ node: Node?, _ context: String) throws(ConfigurationError) -> TLSTrustRoots {
        guard let node, try self.string(node, "\(context) ca") != "system" else { return .system }
        return .file(try self.path(node, "\(context) ca"))
    }

    static func prefixesOverlap(_ a: String, _ b: String) -> Bool {
        a == b || a.hasPrefix(b + "/") || b.hasPrefix(a + "/")
    }

    func vendor(_ node: Node) throws(ConfigurationError) -> ProxyConfiguration.Vendor {
        let map = try self.mapping(
            node,
            "a vendor",
            allowed: [
                "name", "path_prefix", "upstream", "ca", "pin_sha256", "routes", "policy", "pool", "headers",
                "callbacks", "policy_candidate", "hosts",
            ]
        )
        let nameNode = try self.required(map, "name", in: node, "the vendor")
        let name = try self.string(nameNode, "vendors[].name")
        guard Self.isName(name) else {
            throw self.error(nameNode, "vendor name \"\(name)\" must be lower-case letters, digits, - or _")
        }
        let context = "vendor \"\(name)\""

        let prefixNode = try self.required(map, "path_prefix", in: node, context)
        guard let prefix = Self.literalPath(try self.string(prefixNode, "\(context) path_prefix")) else {
            throw self.error(prefixNode, "\(context): path_prefix must look like /name (no wildcards, query or dots)")
        }

        let upstreamNode = try self.required(map, "upstream", in: node, context)
        let upstream: UpstreamURL
        switch UpstreamURL.parse(try self.string(upstreamNode, "\(context) upstream")) {
        case .success(let url): upstream = url
        case .failure(let failure): throw self.error(upstreamNode, "\(context): upstream \(failure.reason)")
        }

        let trustRoots = try self.trustRoots(map["ca"], context)

        let pins = try self.pins(map["pin_sha256"], context)

        let routesNode = try self.required(map, "routes", in: node, context)
        let (routes, routePolicies) = try self.routes(
            routesNode,
            vendorHasPolicy: map["policy"]?.scalar.map { $0.string != "none" } ?? false,
            context
        )

        // Fail closed: every vendor says which policy inspects its traffic, or explicitly that none does.
        let policyNode = try self.required(map, "policy", in: node, context)
        let policyText = try self.string(policyNode, "\(context) policy")
        let policy: ProxyConfiguration.PolicyReference? =
            policyText == "none"
            ? ProxyConfiguration.PolicyReference.none : .file(try self.path(policyNode, "\(context) policy"))

        let (maxConnections, idleTimeout) = try self.pool(map["pool"], context)

        let allowedHeaders = try self.forwardedHeaders(map["headers"], context)
        var vendor = ProxyConfiguration.Vendor(
            name: name,
            pathPrefix: prefix,
            upstream: upstream,
            trustRoots: trustRoots,
            pinnedSPKISHA256: pins,
            routes: routes,
            policy: policy,
            maxConnections: maxConnections,
            idleTimeoutSeconds: idleTimeout
        )
        vendor.forwardedHeaders = allowedHeaders
        if let candidateNode = map["policy_candidate"] {
            guard case .file? = policy else {
                throw self.error(
                    candidateNode,
                    "\(context): policy_candidate is evaluated beside a policy file; set policy first"
                )
            }
            vendor.policyCandidate = try self.path(candidateNode, "\(context) policy_candidate")
        }
        vendor.hosts = try self.hostList(map["hosts"], "hosts", context)
        vendor.routePolicies = routePolicies
        if let callbacksNode = map["callbacks"] {
            vendor.callbackKeys = try self.callbackKeys(callbacksNode, context)
        }
        return vendor
    }

    /// A vendor's `pin_sha256`: base64 SHA-256 SPKI digests, none when absent.
    private func pins(_ node: Node?, _ context: String) throws(ConfigurationError) -> [String] {
        var pins: [String] = []
        guard let pinNode = node else { return pins }
        guard let list = pinNode.sequence else {
            throw self.error(pinNode, "\(context): pin_sha256 must be a list of base64 SHA-256 SPKI digests")
        }
        for pin in list {
            let text = try self.string(pin, "\(context) pin_sha256 entry")
            guard let decoded = Data(base64Encoded: text), decoded.count == 32 else {
                throw self.error(pin, "\(context): pin \"\(text)\" is not a base64 SHA-256 digest (32 bytes)")
            }
            pins.append(text)
        }
        return pins
    }

    /// A vendor's `pool`: its connection cap and idle timeout, 64 and 30 s when absent.
    private func pool(
        _ node: Node?,
        _ context: String
    ) throws(ConfigurationError) -> (maxConnections: Int, idleTimeout: Double) {
        var maxConnections = 64
        var idleTimeout = 30.0
        guard let poolNode = node else { return (maxConnections, idleTimeout) }
        let pool = try self.mapping(
            poolNode,
            "\(context) pool",
            allowed: ["max_connections", "idle_timeout_seconds"]
        )
        if let value = pool["max_connections"] {
            guard let count = value.int, count > 0, count <= 10_000 else {
                throw self.error(value, "\(context): pool.max_connections must be an integer from 1 to 10000")
            }
            maxConnections = count
        }
        if let value = pool["idle_timeout_seconds"] {
            idleTimeout = try self.seconds(value, "\(context) pool.idle_timeout_seconds")
        }
        return (maxConnections, idleTimeout)
    }

    /// The lower-case names of the headers forwarded to a vendor: the defaults plus its `headers:` list.
    private func forwardedHeaders(_ node: Node?, _ context: String) throws(ConfigurationError) -> Set<String> {
        var allowedHeaders = ProxyConfiguration.Vendor.defaultForwardedHeaders
        guard let headersNode = node else { return allowedHeaders }
        guard let list = headersNode.sequence else {
            throw self.error(headersNode, "\(context): headers must be a list of header names to forward")
        }
        for item in list {
            let header = try self.string(item, "\(context) header name")
            guard !header.isEmpty, header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") })
            else {
                throw self.error(item, "\(context): \"\(header)\" is not a header name")
            }
            if header.lowercased() == ProxyConfiguration.Client.tokenHeader {
                throw self.error(
                    item,
                    "\(context): the Airlock-Client-Token header is Airlock's own; it is never forwarded"
                )
            }
            allowedHeaders.insert(header.lowercased())
        }
        return allowedHeaders
    }
}
