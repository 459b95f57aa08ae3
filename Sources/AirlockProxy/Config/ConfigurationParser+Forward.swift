import Foundation
import Yams

/// The `forward:` listener and the vendors' `hosts:` lists.
extension ConfigurationParser {
    /// A vendor's `hosts:`: DNS names, each reduced to ``ForwardHostName`` form.
    func hostList(_ node: Node?, _ key: String, _ context: String) throws(ConfigurationError) -> [String] {
        guard let node else { return [] }
        guard let list = node.sequence, !list.isEmpty else {
            throw self.error(node, "\(context): \(key) must be a non-empty list of host names like [api.scale.com]")
        }
        var hosts: [String] = []
        for item in list {
            let text = try self.string(item, "\(context) \(key) entry")
            guard let host = ForwardHostName.canonical(text) else {
                throw self.error(
                    item,
                    "\(context): \"\(text)\" in \(key) is not a DNS host name (no port, wildcard, scheme or IP address)"
                )
            }
            hosts.append(host)
        }
        return hosts
    }

    /// The `forward:` section, checked against the rest of the configuration.
    func forward(
        _ node: Node,
        vendors: [ProxyConfiguration.Vendor],
        clients: [ProxyConfiguration.Client]?,
        listen: ProxyConfiguration.Listen,
        admin: ProxyConfiguration.Admin?
    ) throws(ConfigurationError) -> ProxyConfiguration.Forward {
        let map = try self.mapping(node, "forward", allowed: ["address", "tls", "ca", "leaf_validity_seconds"])
        let addressNode = try self.required(map, "address", in: node, "forward")
        let address = try self.address(addressNode, "forward.address")
        if address.port != 0 && (address == listen.address || address == admin?.address) {
            throw self.error(addressNode, "forward.address must differ from listen.address and admin.address")
        }
        let tls = try map["tls"].map { tlsNode throws(ConfigurationError) in
            let tls = try self.mapping(tlsNode, "forward.tls", allowed: ["certificate", "key"])
            return ProxyConfiguration.ServerTLS(
                certificatePath: try self.path(
                    try self.required(tls, "certificate", in: tlsNode, "forward.tls"),
                    "forward.tls.certificate"
                ),
                keyPath: try self.path(try self.required(tls, "key", in: tlsNode, "forward.tls"), "forward.tls.key")
            )
        }
        var caCertificate = self.forwardDefault("Certs/interception-ca.crt")
        var caKey = self.forwardDefault("Certs/interception-ca.key")
        if let caNode = map["ca"] {
            let ca = try self.mapping(caNode, "forward.ca", allowed: ["certificate", "key"])
            caCertificate = try self.path(
                try self.required(ca, "certificate", in: caNode, "forward.ca"),
                "forward.ca.certificate"
            )
            caKey = try self.path(try self.required(ca, "key", in: caNode, "forward.ca"), "forward.ca.key")
        }
        var forward = ProxyConfiguration.Forward(
            address: address,
            tls: tls,
            caCertificatePath: caCertificate,
            caKeyPath: caKey
        )
        if let value = map["leaf_validity_seconds"] {
            guard let seconds = value.float, seconds >= 300, seconds <= 30 * 86_400 else {
                throw self.error(value, "forward.leaf_validity_seconds must be a number of seconds from 300 to 2592000")
            }
            forward.leafValiditySeconds = seconds
        }
        guard vendors.contains(where: { !$0.hosts.isEmpty }) else {
            throw self.error(node, "forward: no vendor lists hosts: (the forward listener would refuse everything)")
        }
        // Default deny includes who may ask: every CONNECT must carry a client's token.
        guard let clients, clients.contains(where: { $0.tokenSHA256 != nil }) else {
            throw self.error(
                node,
                "forward: needs clients: with token_sha256 (clients authenticate to the forward listener with "
                    + "Proxy-Authorization)"
            )
        }
        return forward
    }

    /// Every listed host belongs to one vendor, and a vendor whose hosts are intercepted forwards the path as is.
    func checkForwardHosts(
        _ vendors: [ProxyConfiguration.Vendor],
        vendorsNode: Node,
        forward: Node?
    ) throws(ConfigurationError) {
        var owners: [String: String] = [:]
        for (index, vendor) in vendors.enumerated() {
            let vendorNode = vendorsNode.sequence?[index]
            let context = "vendor \"\(vendor.name)\""
            if forward == nil, !vendor.hosts.isEmpty {
                throw self.error(
                    vendorNode?.mapping?["hosts"] ?? vendorsNode,
                    "\(context): hosts needs a forward: listener"
                )
            }
            if !vendor.hosts.isEmpty, !vendor.upstream.basePath.isEmpty {
                throw self.error(
                    vendorNode?.mapping?["upstream"] ?? vendorsNode,
                    "\(context): a vendor with hosts: forwards request paths as they are; its upstream must have no path"
                )
            }
            for (position, host) in vendor.hosts.enumerated() {
                if let owner = owners.updateValue(vendor.name, forKey: host) {
                    let item = vendorNode?.mapping?["hosts"]?.sequence?[position] ?? vendorsNode
                    throw self.error(item, "\(context): host \(host) is listed twice (also by vendor \"\(owner)\")")
                }
            }
        }
    }

    private func forwardDefault(_ relative: String) -> String {
        URL(fileURLWithPath: relative, relativeTo: URL(fileURLWithPath: self.baseDirectory, isDirectory: true))
            .standardizedFileURL.path
    }
}
