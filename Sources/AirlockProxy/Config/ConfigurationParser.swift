import AirlockAudit
import AirlockPolicy
import AirlockTLS
import Foundation
import Yams

/// Walks the composed YAML tree (not a Decodable) so every error can point at the node's line and column.
struct ConfigurationParser {
    let file: String?
    let baseDirectory: String
    /// Where each file the configuration names was written (for `airlock check --config`).
    let pathLocations = ConfigurationPathLocations()

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
                "replica_id", "assets", "forward",
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
        try self.checkForwardHosts(vendors, vendorsNode: vendorsNode, forward: top["forward"])
        let forward = try top["forward"].map { node throws(ConfigurationError) in
            try self.forward(node, vendors: vendors, clients: clients, listen: listen, admin: admin)
        }
        var configuration = ProxyConfiguration(
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
        if let node = top["replica_id"] {
            let id = try self.string(node, "replica_id")
            guard ReplicaID.isValid(id) else { throw self.error(node, ReplicaID.rule) }
            configuration.replicaID = id
        }
        if let node = top["assets"] {
            configuration.assets = try self.assets(node, vendors: vendors)
            try self.checkAssetListener(configuration, node: node)
        }
        configuration.forward = forward
        return configuration
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
                "checkpoint_interval_seconds", "commit_delay_ms", "min_free_bytes", "max_directory_bytes", "stream",
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
        if let value = map["stream"] {
            audit.log.stream = try self.auditStream(value)
        }
        return audit
    }

    /// `stream: stdout`, or `stream: {path: FILE, max_bytes: N, keep: N}`.
    private func auditStream(_ node: Node) throws(ConfigurationError) -> AuditStreamConfiguration {
        if let scalar = node.scalar {
            guard scalar.string == "stdout" else {
                throw self.error(node, "audit.stream must be stdout or a mapping with path, max_bytes and keep")
            }
            return .standardOutput
        }
        let map = try self.mapping(node, "audit.stream", allowed: ["path", "max_bytes", "keep"])
        let path = try self.path(try self.required(map, "path", in: node, "audit.stream"), "audit.stream.path")
        var maxBytes = AuditStreamConfiguration.defaultMaxBytes
        if let value = map["max_bytes"] {
            guard let bytes = value.int, bytes >= 4096 else {
                throw self.error(value, "audit.stream.max_bytes must be an integer of at least 4096 (bytes)")
            }
            maxBytes = bytes
        }
        var keep = AuditStreamConfiguration.defaultKeep
        if let value = map["keep"] {
            keep = try self.positiveInteger(value, "audit.stream.keep", unit: "rotated files")
        }
        return .file(path: URL(fileURLWithPath: path), maxBytes: maxBytes, keep: keep)
    }

    // MARK: Scalars

    func mapping(_ node: Node, _ what: String, allowed: Set<String>) throws(ConfigurationError) -> Node.Mapping {
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

    func seconds(_ node: Node, _ what: String) throws(ConfigurationError) -> Double {
        guard let value = node.float, value > 0, value <= 86_400 else {
            throw self.error(node, "\(what) must be a number of seconds between 0 and 86400")
        }
        return value
    }

    func positiveInteger(_ node: Node, _ what: String, unit: String) throws(ConfigurationError) -> Int {
        guard let value = node.int, value > 0 else {
            throw self.error(node, "\(what) must be a positive integer (\(unit))")
        }
        return value
    }

    /// Resolves a path relative to the configuration file's directory.
    func path(_ node: Node, _ what: String) throws(ConfigurationError) -> String {
        let text = try self.string(node, what)
        let resolved =
            text.hasPrefix("/")
            ? text : URL(fileURLWithPath: self.baseDirectory).appendingPathComponent(text).standardizedFileURL.path
        self.pathLocations.record(resolved, line: node.mark?.line, column: node.mark?.column)
        return resolved
    }

    func error(_ node: Node, _ message: String) -> ConfigurationError {
        ConfigurationError(file: self.file, line: node.mark?.line, column: node.mark?.column, message: message)
    }
}
