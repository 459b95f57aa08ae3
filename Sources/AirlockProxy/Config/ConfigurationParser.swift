import AirlockAudit
import AirlockPolicy
import AirlockTLS
import Foundation
import Yams

/// Walks the composed YAML tree (not a Decodable) so every error can point at the node's line and column.
struct ConfigurationParser {
    let file: String?
    let baseDirectory: String

    init(file: String?, baseDirectory: String) {
        self.file = file
        self.baseDirectory = baseDirectory
    }

    mutating func parse(_ yaml: String) throws(ConfigurationError) -> ProxyConfiguration {
        let composed: Node?
        do throws(YAMLSyntaxError) {
            composed = try YAMLReader.compose(yaml)
        } catch {
            throw ConfigurationError(file: self.file, line: error.line, column: error.column, message: error.message)
        }
        guard let root = composed else {
            throw ConfigurationError(file: self.file, message: "the configuration is empty")
        }

        let top = try self.mapping(
            root,
            "the configuration",
            allowed: [
                "listen", "admin", "limits", "vendors", "audit", "pseudonym_key", "callbacks", "clients",
            ]
        )
        guard let listenNode = top["listen"] else {
            throw self.error(root, "missing \"listen\" (address and tls of the HTTPS listener)")
        }
        let listen = try self.listen(listenNode, "listen")
        let admin = try top["admin"].map { node throws(ConfigurationError) in try self.admin(node) }
        let limits =
            try top["limits"].map { node throws(ConfigurationError) in try self.limits(node) }
            ?? ProxyConfiguration.Limits()
        guard let vendorsNode = top["vendors"] else {
            throw self.error(root, "missing \"vendors\" (at least one vendor to forward to)")
        }
        let vendors = try self.vendors(vendorsNode)
        let audit =
            try top["audit"].map { node throws(ConfigurationError) in try self.audit(node) } ?? self.defaultAudit
        let pseudonymKey =
            try top["pseudonym_key"].map { node throws(ConfigurationError) in try self.path(node, "pseudonym_key") }
            ?? self.resolve("Certs/pseudonym.key")
        let callbacks = try top["callbacks"].map { node throws(ConfigurationError) in
            try self.callbacks(node, vendors: vendors)
        }
        if let admin, admin.address == listen.address, listen.address.port != 0 {
            throw self.error(top["admin"]!, "admin.address must differ from listen.address")
        }
        let clients = try top["clients"].map { node throws(ConfigurationError) in
            try self.clients(node, vendors: vendors, listen: listen)
        }
        if let callbacks, let callbacksNode = top["callbacks"] {
            try self.checkCallbackListener(callbacks, node: callbacksNode, listen: listen, admin: admin)
        }
        return ProxyConfiguration(
            listen: listen,
            admin: admin,
            limits: limits,
            vendors: vendors,
            audit: audit,
            pseudonymKeyPath: pseudonymKey,
            sourcePath: self.file,
            callbacks: callbacks,
            clients: clients
        )
    }

    /// The log under `airlock-data/audit`, signed with `Certs/audit-signing.key` when `airlock certs init` made one.
    private var defaultAudit: ProxyConfiguration.Audit {
        let key = self.resolve("Certs/audit-signing.key")
        return ProxyConfiguration.Audit(
            log: AuditConfiguration(
                directory: URL(fileURLWithPath: self.resolve("airlock-data/audit"), isDirectory: true),
                signingKeyPath: FileManager.default.fileExists(atPath: key) ? URL(fileURLWithPath: key) : nil
            )
        )
    }

    private func resolve(_ relative: String) -> String {
        URL(fileURLWithPath: relative, relativeTo: URL(fileURLWithPath: self.baseDirectory, isDirectory: true))
            .standardizedFileURL.path
    }

    private func audit(_ node: Node) throws(ConfigurationError) -> ProxyConfiguration.Audit {
        let map = try self.mapping(
            node,
            "audit",
            allowed: [
                "enabled", "directory", "signing_key", "store_bodies", "rotate_bytes", "checkpoint_every",
                "checkpoint_interval_seconds", "commit_delay_ms", "min_free_bytes", "max_directory_bytes",
            ]
        )
        var audit = self.defaultAudit
        if let value = map["enabled"] {
            guard let enabled = value.bool else { throw self.error(value, "audit.enabled must be true or false") }
            audit.enabled = enabled
        }
        if let value = map["directory"] {
            audit.log.directory = URL(fileURLWithPath: try self.path(value, "audit.directory"), isDirectory: true)
        }
        if let value = map["signing_key"] {
            audit.log.signingKeyPath = URL(fileURLWithPath: try self.path(value, "audit.signing_key"))
        }
        if let value = map["store_bodies"] {
            guard let store = value.bool else { throw self.error(value, "audit.store_bodies must be true or false") }
            audit.log.storeBodies = store
        }
        if let value = map["rotate_bytes"] {
            guard let bytes = value.int, bytes >= 4096 else {
                throw self.error(value, "audit.rotate_bytes must be an integer of at least 4096 (bytes)")
            }
            audit.log.rotateBytes = bytes
        }
        if let value = map["checkpoint_every"] {
            audit.log.checkpointEvery = try self.positiveInteger(value, "audit.checkpoint_every", unit: "records")
        }
        if let value = map["checkpoint_interval_seconds"] {
            audit.log.checkpointInterval = try self.seconds(value, "audit.checkpoint_interval_seconds")
        }
        if let value = map["commit_delay_ms"] {
            // Every forwarded request may wait this long for its record to be durable: keep it well below a second.
            guard let milliseconds = value.float, milliseconds >= 0, milliseconds <= 100 else {
                throw self.error(value, "audit.commit_delay_ms must be a number of milliseconds between 0 and 100")
            }
            audit.log.commitDelay = .microseconds(Int64((milliseconds * 1000).rounded()))
        }
        if let value = map["min_free_bytes"] {
            guard let bytes = value.int, bytes >= 0 else {
                throw self.error(value, "audit.min_free_bytes must be an integer of at least 0 (bytes; 0 = no check)")
            }
            audit.minFreeBytes = bytes
        }
        if let value = map["max_directory_bytes"] {
            audit.maxDirectoryBytes = try self.positiveInteger(value, "audit.max_directory_bytes", unit: "bytes")
        }
        return audit
    }

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

    private func admin(_ node: Node) throws(ConfigurationError) -> ProxyConfiguration.Admin {
        let map = try self.mapping(node, "admin", allowed: ["address"])
        return ProxyConfiguration.Admin(
            address: try self.address(try self.required(map, "address", in: node, "admin"), "admin.address")
        )
    }

    private func limits(_ node: Node) throws(ConfigurationError) -> ProxyConfiguration.Limits {
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

    private func vendors(_ node: Node) throws(ConfigurationError) -> [ProxyConfiguration.Vendor] {
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
    private static func literalPath(_ text: String) -> String? {
        var path = text
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        guard path.hasPrefix("/"), path.count > 1, !path.contains("*"), !path.contains("?"), !path.contains("%"),
            !path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." })
        else { return nil }
        return path
    }

    /// `ca:` absent or `system`: the system roots; anything else: a CA bundle, relative to the configuration file.
    private func trustRoots(_ node: Node?, _ context: String) throws(ConfigurationError) -> TLSTrustRoots {
        guard let node, try self.string(node, "\(context) ca") != "system" else { return .system }
        return .file(try self.path(node, "\(context) ca"))
    }

    private static func prefixesOverlap(_ a: String, _ b: String) -> Bool {
        a == b || a.hasPrefix(b + "/") || b.hasPrefix(a + "/")
    }

    private func vendor(_ node: Node) throws(ConfigurationError) -> ProxyConfiguration.Vendor {
        let map = try self.mapping(
            node,
            "a vendor",
            allowed: [
                "name", "path_prefix", "upstream", "ca", "pin_sha256", "routes", "policy", "pool", "headers",
                "callbacks",
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

        var pins: [String] = []
        if let pinNode = map["pin_sha256"] {
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
        }

        let routesNode = try self.required(map, "routes", in: node, context)
        guard let routeList = routesNode.sequence, !routeList.isEmpty else {
            throw self.error(routesNode, "\(context): routes must be a non-empty list like [\"POST /v1/task/*\"]")
        }
        var routes: [RoutePattern] = []
        for routeNode in routeList {
            switch RoutePattern.parse(try self.string(routeNode, "\(context) route")) {
            case .success(let route): routes.append(route)
            case .failure(let failure): throw self.error(routeNode, "\(context): route \(failure.reason)")
            }
        }

        // Fail closed: every vendor says which policy inspects its traffic, or explicitly that none does.
        let policyNode = try self.required(map, "policy", in: node, context)
        let policyText = try self.string(policyNode, "\(context) policy")
        let policy: ProxyConfiguration.PolicyReference? =
            policyText == "none"
            ? ProxyConfiguration.PolicyReference.none : .file(try self.path(policyNode, "\(context) policy"))

        var maxConnections = 64
        var idleTimeout = 30.0
        if let poolNode = map["pool"] {
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
        }

        var allowedHeaders = HeaderHygiene.defaultForwardedHeaders
        if let headersNode = map["headers"] {
            guard let list = headersNode.sequence else {
                throw self.error(headersNode, "\(context): headers must be a list of header names to forward")
            }
            for item in list {
                let header = try self.string(item, "\(context) header name")
                guard !header.isEmpty, header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") })
                else {
                    throw self.error(item, "\(context): \"\(header)\" is not a header name")
                }
                if header.lowercased() == ClientAuthenticator.tokenHeader {
                    throw self.error(
                        item,
                        "\(context): the Airlock-Client-Token header is Airlock's own; it is never forwarded"
                    )
                }
                allowedHeaders.insert(header.lowercased())
            }
        }
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
        if let callbacksNode = map["callbacks"] {
            vendor.callbackKeys = try self.callbackKeys(callbacksNode, context)
        }
        return vendor
    }

    // MARK: Callbacks

    private func callbacks(
        _ node: Node,
        vendors: [ProxyConfiguration.Vendor]
    ) throws(ConfigurationError) -> ProxyConfiguration.Callbacks {
        let map = try self.mapping(node, "callbacks", allowed: ["public_url", "internal_hosts", "routes", "listen"])
        let publicNode = try self.required(map, "public_url", in: node, "callbacks")
        let publicURL: UpstreamURL
        switch UpstreamURL.parse(try self.string(publicNode, "callbacks.public_url")) {
        case .success(let url): publicURL = url
        case .failure(let failure):
            throw self.error(publicNode, "callbacks.public_url \(failure.reason) (vendors call Airlock back over TLS)")
        }

        var globs: [String] = []
        if let hostsNode = map["internal_hosts"] {
            guard let list = hostsNode.sequence else {
                throw self.error(hostsNode, "callbacks.internal_hosts must be a list like [\"*.corp.example.com\"]")
            }
            for item in list {
                let glob = try self.string(item, "callbacks.internal_hosts entry")
                guard InternalHosts.isValidGlob(glob) else {
                    throw self.error(
                        item,
                        "callbacks.internal_hosts entry \"\(glob)\" must be a host name or *.domain"
                    )
                }
                globs.append(glob.lowercased())
            }
        }
        if InternalHosts(globs: globs).contains(publicURL.host) {
            throw self.error(
                publicNode,
                "callbacks.public_url host \"\(publicURL.host)\" is inside the lab (internal_hosts, a private "
                    + "address or a single-label name); it must be the name vendors reach Airlock by"
            )
        }

        let routesNode = try self.required(map, "routes", in: node, "callbacks")
        guard let routeList = routesNode.sequence, !routeList.isEmpty else {
            throw self.error(
                routesNode,
                "callbacks.routes must be a non-empty list of {vendor, path, deliver_to, auth}"
            )
        }
        var routes: [ProxyConfiguration.CallbackRoute] = []
        for item in routeList {
            let route = try self.callbackRoute(item, vendors: vendors)
            if let other = routes.first(where: { Self.prefixesOverlap($0.path, route.path) }) {
                throw self.error(
                    item,
                    "callback path \"\(route.path)\" overlaps the callback path \"\(other.path)\" of vendor "
                        + "\"\(other.vendor)\""
                )
            }
            routes.append(route)
        }
        let listen = try map["listen"].map { node throws(ConfigurationError) in
            try self.listen(node, "callbacks.listen", allowsClientCA: false)
        }
        return ProxyConfiguration.Callbacks(publicURL: publicURL, internalHosts: globs, routes: routes, listen: listen)
    }

    /// A vendor's `callbacks: {keys: [...], webhook_keys: [...]}`: the field names its requests carry callback URLs
    /// under. Each list replaces its default; `keys` may not be empty (a vendor whose callback URLs nothing looks for
    /// would send internal ones out).
    private func callbackKeys(_ node: Node, _ context: String) throws(ConfigurationError) -> CallbackKeys {
        let map = try self.mapping(node, "\(context) callbacks", allowed: ["keys", "webhook_keys"])
        var keys = CallbackKeys()
        func names(_ name: String, allowEmpty: Bool) throws(ConfigurationError) -> [String]? {
            guard let listNode = map[name] else { return nil }
            guard let list = listNode.sequence, allowEmpty || !list.isEmpty else {
                throw self.error(
                    listNode,
                    "\(context): callbacks.\(name) must be a \(allowEmpty ? "" : "non-empty ")list of field names"
                )
            }
            var result: [String] = []
            for item in list {
                let key = try self.string(item, "\(context) callbacks.\(name) entry")
                guard !key.isEmpty else { throw self.error(item, "\(context): a callback key must not be empty") }
                if !result.contains(key) { result.append(key) }
            }
            return result
        }
        if let list = try names("keys", allowEmpty: false) { keys.keys = list }
        if let list = try names("webhook_keys", allowEmpty: true) { keys.webhookKeys = list }
        return keys
    }

    private func callbackRoute(
        _ node: Node,
        vendors: [ProxyConfiguration.Vendor]
    ) throws(ConfigurationError) -> ProxyConfiguration.CallbackRoute {
        let map = try self.mapping(node, "a callbacks route", allowed: ["vendor", "path", "deliver_to", "auth", "ca"])
        let vendorNode = try self.required(map, "vendor", in: node, "the callbacks route")
        let vendor = try self.string(vendorNode, "callbacks.routes[].vendor")
        guard vendors.contains(where: { $0.name == vendor }) else {
            let known = vendors.map(\.name).joined(separator: ", ")
            throw self.error(
                vendorNode,
                "callbacks route names vendor \"\(vendor)\", which is not configured (vendors: \(known))"
            )
        }
        let context = "callbacks route of vendor \"\(vendor)\""

        let pathNode = try self.required(map, "path", in: node, context)
        guard let path = Self.literalPath(try self.string(pathNode, "\(context) path")), !path.contains("\\") else {
            throw self.error(pathNode, "\(context): path must look like /callbacks/name (no wildcards, query or dots)")
        }
        if let other = vendors.first(where: { Self.prefixesOverlap($0.pathPrefix, path) }) {
            throw self.error(
                pathNode,
                "\(context): path \"\(path)\" overlaps the path_prefix \"\(other.pathPrefix)\" of vendor "
                    + "\"\(other.name)\"; callbacks need a path of their own"
            )
        }

        let targetNode = try self.required(map, "deliver_to", in: node, context)
        let target: CallbackTarget
        switch CallbackTarget.parse(try self.string(targetNode, "\(context) deliver_to")) {
        case .success(let parsed): target = parsed
        case .failure(let failure): throw self.error(targetNode, "\(context): deliver_to \(failure.reason)")
        }

        let trustRoots = try self.trustRoots(map["ca"], context)

        let authNode = try self.required(map, "auth", in: node, context)
        let auth = try self.mapping(authNode, "\(context) auth", allowed: ["header", "secret_file", "secret_env"])
        let headerNode = try self.required(auth, "header", in: authNode, "\(context) auth")
        let header = try self.string(headerNode, "\(context) auth.header")
        guard header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }) else {
            throw self.error(headerNode, "\(context): auth.header \"\(header)\" is not a header name")
        }
        let secretText: String
        switch (auth["secret_file"], auth["secret_env"]) {
        case (let fileNode?, nil):
            let file = try self.path(fileNode, "\(context) auth.secret_file")
            guard let data = FileManager.default.contents(atPath: file) else {
                throw self.error(fileNode, "\(context): cannot read auth.secret_file \(file)")
            }
            secretText = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        case (nil, let envNode?):
            let name = try self.string(envNode, "\(context) auth.secret_env")
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw self.error(envNode, "\(context): the environment variable \(name) (auth.secret_env) is not set")
            }
            secretText = value.trimmingCharacters(in: .whitespacesAndNewlines)
        case (nil, nil):
            throw self.error(authNode, "\(context): auth needs secret_file or secret_env")
        case (_?, _?):
            throw self.error(authNode, "\(context): auth takes secret_file or secret_env, not both")
        }
        // The value itself never appears in an error: only its length.
        guard secretText.utf8.count >= 16 else {
            throw self.error(
                authNode,
                "\(context): the auth secret is \(secretText.utf8.count) bytes; use at least 16 (e.g. openssl rand -hex 32)"
            )
        }
        return ProxyConfiguration.CallbackRoute(
            vendor: vendor,
            path: path,
            deliverTo: target,
            trustRoots: trustRoots,
            auth: ProxyConfiguration.CallbackAuth(header: header, secret: CallbackSecret(secretText))
        )
    }

    // MARK: Scalars

    func mapping(_ node: Node, _ what: String, allowed: Set<String>) throws(ConfigurationError) -> Node.Mapping
    {
        guard let map = node.mapping else {
            throw self.error(node, "\(what) must be a mapping of keys to values")
        }
        for key in map.keys {
            guard let name = key.string, allowed.contains(name) else {
                let known = allowed.sorted().joined(separator: ", ")
                throw self.error(key, "unknown key \"\(key.string ?? "?")\" in \(what) (known: \(known))")
            }
        }
        return map
    }

    func required(
        _ map: Node.Mapping,
        _ key: String,
        in node: Node,
        _ what: String
    ) throws(ConfigurationError)
        -> Node
    {
        guard let value = map[key] else {
            throw self.error(node, "\(what) is missing \"\(key)\"")
        }
        return value
    }

    func string(_ node: Node, _ what: String) throws(ConfigurationError) -> String {
        guard let scalar = node.scalar, !scalar.string.isEmpty else {
            throw self.error(node, "\(what) must be a non-empty string")
        }
        return scalar.string
    }

    func address(_ node: Node, _ what: String) throws(ConfigurationError) -> HostAndPort {
        let text = try self.string(node, what)
        guard let address = HostAndPort(parsing: text) else {
            throw self.error(node, "\(what) \"\(text)\" must be host:port, e.g. 127.0.0.1:8443 or [::1]:8443")
        }
        return address
    }

    private func seconds(_ node: Node, _ what: String) throws(ConfigurationError) -> Double {
        guard let value = node.float, value > 0, value <= 86_400 else {
            throw self.error(node, "\(what) must be a number of seconds between 0 and 86400")
        }
        return value
    }

    private func positiveInteger(_ node: Node, _ what: String, unit: String) throws(ConfigurationError) -> Int {
        guard let value = node.int, value > 0 else {
            throw self.error(node, "\(what) must be a positive integer (\(unit))")
        }
        return value
    }

    /// Resolves a path relative to the configuration file's directory.
    func path(_ node: Node, _ what: String) throws(ConfigurationError) -> String {
        let text = try self.string(node, what)
        if text.hasPrefix("/") { return text }
        return URL(fileURLWithPath: self.baseDirectory).appendingPathComponent(text).standardizedFileURL.path
    }

    func error(_ node: Node, _ message: String) -> ConfigurationError {
        ConfigurationError(file: self.file, line: node.mark?.line, column: node.mark?.column, message: message)
    }
}
