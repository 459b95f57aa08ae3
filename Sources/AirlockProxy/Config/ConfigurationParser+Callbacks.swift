import AirlockAudit
import AirlockPolicy
import AirlockTLS
import Foundation
import Yams

extension ConfigurationParser {
    // MARK: Callbacks

    func callbacks(
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

        let globs = try self.hostGlobs(map["internal_hosts"], "callbacks.internal_hosts")
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
    func callbackKeys(_ node: Node, _ context: String) throws(ConfigurationError) -> CallbackKeys {
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
}
