import AirlockSupport
import Yams

/// The `clients:` section and the checks that tie `callbacks.listen` to the lab listener.
extension ConfigurationParser {
    func clients(
        _ node: Node,
        vendors: [ProxyConfiguration.Vendor],
        listen: ProxyConfiguration.Listen
    ) throws(ConfigurationError) -> [ProxyConfiguration.Client] {
        guard let list = node.sequence, !list.isEmpty else {
            throw self.error(
                node,
                "clients must be a non-empty list of {name, certificate_name and/or token_sha256, vendors}"
            )
        }
        var clients: [ProxyConfiguration.Client] = []
        for item in list {
            let client = try self.client(item, vendors: vendors, listen: listen)
            if clients.contains(where: { $0.name == client.name }) {
                throw self.error(item, "client name \"\(client.name)\" is used twice")
            }
            if let name = client.certificateName,
                let other = clients.first(where: { $0.certificateName == name })
            {
                throw self.error(
                    item,
                    "client \"\(client.name)\": certificate_name \"\(name)\" already identifies client \"\(other.name)\""
                )
            }
            if let token = client.tokenSHA256, let other = clients.first(where: { $0.tokenSHA256 == token }) {
                throw self.error(
                    item,
                    "client \"\(client.name)\": token_sha256 is the same as client \"\(other.name)\"'s; give each "
                        + "client its own token"
                )
            }
            clients.append(client)
        }
        return clients
    }

    private func client(
        _ node: Node,
        vendors: [ProxyConfiguration.Vendor],
        listen: ProxyConfiguration.Listen
    ) throws(ConfigurationError) -> ProxyConfiguration.Client {
        let map = try self.mapping(
            node,
            "a client",
            allowed: ["name", "certificate_name", "token_sha256", "vendors"]
        )
        let nameNode = try self.required(map, "name", in: node, "the client")
        let name = try self.string(nameNode, "clients[].name")
        guard Self.isName(name) else {
            throw self.error(nameNode, "client name \"\(name)\" must be lower-case letters, digits, - or _")
        }
        let context = "client \"\(name)\""

        var certificateName: String?
        if let certificateNode = map["certificate_name"] {
            guard listen.tls.clientCAPath != nil else {
                throw self.error(
                    certificateNode,
                    "\(context): certificate_name needs listen.tls.client_ca (without it the lab listener asks for "
                        + "no client certificate)"
                )
            }
            certificateName = try self.string(certificateNode, "\(context) certificate_name")
        }
        var tokenSHA256: [UInt8]?
        if let tokenNode = map["token_sha256"] {
            // The value is never repeated in the error: a token pasted here by mistake must not reach a log.
            guard let digest = Self.sha256Hex(try self.string(tokenNode, "\(context) token_sha256")) else {
                throw self.error(
                    tokenNode,
                    "\(context): token_sha256 must be the token's SHA-256 as 64 hex digits, not the token "
                        + "(`airlock certs token-hash` prints it)"
                )
            }
            tokenSHA256 = digest
        }
        if certificateName == nil && tokenSHA256 == nil {
            throw self.error(node, "\(context) needs certificate_name or token_sha256 (or both) to be recognised by")
        }

        let vendorsNode = try self.required(map, "vendors", in: node, context)
        guard let vendorList = vendorsNode.sequence, !vendorList.isEmpty else {
            throw self.error(vendorsNode, "\(context): vendors must be a non-empty list of vendor names")
        }
        var allowed: Set<String> = []
        for item in vendorList {
            let vendor = try self.string(item, "\(context) vendor")
            guard vendors.contains(where: { $0.name == vendor }) else {
                let known = vendors.map(\.name).joined(separator: ", ")
                throw self.error(item, "\(context): vendor \"\(vendor)\" is not configured (vendors: \(known))")
            }
            allowed.insert(vendor)
        }
        return ProxyConfiguration.Client(
            name: name,
            certificateName: certificateName,
            tokenSHA256: tokenSHA256,
            vendors: allowed
        )
    }

    /// Vendors cannot present the lab's client certificates: with `listen.tls.client_ca`, callbacks need their own
    /// listener. That listener's address is its own.
    func checkCallbackListener(
        _ callbacks: ProxyConfiguration.Callbacks,
        node: Node,
        listen: ProxyConfiguration.Listen,
        admin: ProxyConfiguration.Admin?
    ) throws(ConfigurationError) {
        guard let callbackListen = callbacks.listen else {
            if listen.tls.clientCAPath != nil {
                throw self.error(
                    node,
                    "callbacks are served on the lab listener, which requires client certificates "
                        + "(listen.tls.client_ca) that vendors cannot present: give them their own listener "
                        + "(callbacks.listen)"
                )
            }
            return
        }
        let address = callbackListen.address
        let listenNode = node.mapping?["listen"] ?? node
        if address.port != 0 && (address == listen.address || address == admin?.address) {
            throw self.error(listenNode, "callbacks.listen.address must differ from listen.address and admin.address")
        }
    }

    /// 64 hex digits (either case) as 32 bytes; nil otherwise.
    static func sha256Hex(_ text: String) -> [UInt8]? {
        text.utf8.count == 64 ? Hex.decode(text) : nil
    }
}
