import AirlockPolicy
import Foundation
import Yams

extension ConfigurationParser {
    // MARK: Assets

    // Over 80 lines: one key after another, each with its own message, in the order the README documents them.
    func assets(_ node: Node, vendors: [ProxyConfiguration.Vendor]) throws(ConfigurationError) -> AssetsConfiguration {
        let map = try self.mapping(
            node,
            "assets",
            allowed: [
                "public_url", "listen", "sources", "addresses", "ca", "max_bytes", "timeout_seconds",
                "token_lifetime_seconds", "key", "revocations", "internal_hosts", "keys",
            ]
        )
        let publicNode = try self.required(map, "public_url", in: node, "assets")
        let publicURL: UpstreamURL
        switch UpstreamURL.parse(try self.string(publicNode, "assets.public_url")) {
        case .success(let url): publicURL = url
        case .failure(let failure):
            throw self.error(publicNode, "assets.public_url \(failure.reason) (vendors fetch assets over TLS)")
        }
        let internalHosts = try self.hostGlobs(map["internal_hosts"], "assets.internal_hosts")
        if InternalHosts(globs: internalHosts).contains(publicURL.host) {
            throw self.error(
                publicNode,
                "assets.public_url host \"\(publicURL.host)\" is inside the lab; it must be the name vendors reach "
                    + "the asset gateway by"
            )
        }
        let listen = try self.listen(
            try self.required(map, "listen", in: node, "assets"),
            "assets.listen",
            allowsClientCA: false
        )
        let sourcesNode = try self.required(map, "sources", in: node, "assets")
        guard let sourceList = sourcesNode.sequence, !sourceList.isEmpty else {
            throw self.error(sourcesNode, "assets.sources must be a non-empty list of {url, fetch_from} or {presigned}")
        }
        var sources: [AssetSource] = []
        for item in sourceList { sources.append(try self.assetSource(item)) }
        var addresses: [CIDRRange] = []
        if let addressesNode = map["addresses"] {
            guard let list = addressesNode.sequence, !list.isEmpty else {
                throw self.error(addressesNode, "assets.addresses must be a non-empty list of CIDR ranges")
            }
            for item in list {
                let text = try self.string(item, "assets.addresses entry")
                do {
                    addresses.append(try CIDRRange(parsing: text))
                } catch {
                    throw self.error(item, "assets.addresses entry \"\(text)\" is not a CIDR range (\(error))")
                }
            }
        }
        var assets = AssetsConfiguration(
            publicURL: publicURL,
            listen: listen,
            sources: sources,
            revocationsPath: try map["revocations"].map { node throws(ConfigurationError) in
                try self.path(node, "assets.revocations")
            }
                ?? URL(
                    fileURLWithPath: "airlock-data/asset-revocations",
                    relativeTo: URL(fileURLWithPath: self.baseDirectory, isDirectory: true)
                ).standardizedFileURL.path,
            addresses: addresses,
            trustRoots: try self.trustRoots(map["ca"], "assets"),
            internalHosts: internalHosts
        )
        if let value = map["max_bytes"] {
            assets.maxBytes = try self.positiveInteger(value, "assets.max_bytes", unit: "bytes")
        }
        if let value = map["timeout_seconds"] {
            assets.timeoutSeconds = try self.seconds(value, "assets.timeout_seconds")
        }
        if let value = map["token_lifetime_seconds"] {
            guard let seconds = value.float, seconds > 0, seconds <= 30 * 86_400 else {
                throw self.error(value, "assets.token_lifetime_seconds must be a number of seconds up to 30 days")
            }
            assets.tokenLifetimeSeconds = seconds
        }
        if let value = map["key"] { assets.keyPath = try self.path(value, "assets.key") }
        if let keysNode = map["keys"] {
            let keysMap = try self.mapping(keysNode, "assets.keys", allowed: Set(vendors.map(\.name)))
            for (nameNode, listNode) in keysMap {
                let vendor = try self.string(nameNode, "assets.keys vendor")
                guard let list = listNode.sequence, !list.isEmpty else {
                    throw self.error(listNode, "assets.keys.\(vendor) must be a non-empty list of field names")
                }
                var names: [String] = []
                for item in list { names.append(try self.string(item, "assets.keys.\(vendor) entry")) }
                assets.fieldKeys[vendor] = names
            }
        }
        return assets
    }

    /// `{url, fetch_from}` or `{presigned: s3|gcs, buckets}`.
    private func assetSource(_ node: Node) throws(ConfigurationError) -> AssetSource {
        let map = try self.mapping(node, "an assets source", allowed: ["url", "fetch_from", "presigned", "buckets"])
        switch (map["url"], map["presigned"]) {
        case (let urlNode?, nil):
            guard map["buckets"] == nil else {
                throw self.error(node, "an assets source with url takes no buckets (the url names the bucket)")
            }
            let prefix = try self.assetPrefix(urlNode, "assets.sources[].url")
            if let fetchNode = map["fetch_from"] {
                let fetchFrom = try self.assetPrefix(fetchNode, "assets.sources[].fetch_from")
                guard fetchFrom.scheme == "https", !fetchFrom.host.pattern.contains("*") else {
                    throw self.error(fetchNode, "assets.sources[].fetch_from must be an https URL with a plain host")
                }
                return .prefix(prefix, fetchFrom: fetchFrom)
            }
            return .prefix(prefix, fetchFrom: try self.defaultFetch(prefix, node: urlNode))
        case (nil, let styleNode?):
            let text = try self.string(styleNode, "assets.sources[].presigned")
            guard let style = AssetSource.PresignedStyle(rawValue: text) else {
                throw self.error(styleNode, "assets.sources[].presigned must be s3 or gcs")
            }
            guard map["fetch_from"] == nil else {
                throw self.error(node, "a presigned source is fetched from the link itself: it takes no fetch_from")
            }
            var buckets: [String] = []
            if let list = map["buckets"] {
                guard let items = list.sequence else {
                    throw self.error(list, "assets.sources[].buckets must be a list of bucket names")
                }
                for item in items { buckets.append(try self.string(item, "assets.sources[].buckets entry")) }
            }
            return .presigned(style, buckets: buckets)
        case (nil, nil):
            throw self.error(node, "an assets source needs url (with fetch_from for another endpoint) or presigned")
        case (_?, _?):
            throw self.error(node, "an assets source takes url or presigned, not both")
        }
    }

    private func assetPrefix(_ node: Node, _ what: String) throws(ConfigurationError) -> AssetURLPrefix {
        switch AssetURLPrefix.parse(try self.string(node, what)) {
        case .success(let prefix): return prefix
        case .failure(let failure): throw self.error(node, "\(what) \(failure.reason)")
        }
    }

    /// Where a prefix without `fetch_from` is fetched: an https prefix from itself, a bucket from its cloud's public
    /// HTTPS endpoint (`https://storage.googleapis.com/<bucket>/`, `https://<bucket>.s3.amazonaws.com/`).
    private func defaultFetch(_ prefix: AssetURLPrefix, node: Node) throws(ConfigurationError) -> AssetURLPrefix {
        let bucket = prefix.host.pattern
        if prefix.scheme != "https" && bucket.contains("*") {
            throw self.error(node, "a bucket source names one bucket (no *); give fetch_from for anything else")
        }
        switch prefix.scheme {
        case "gs":
            return AssetURLPrefix(
                scheme: "https",
                host: HostPattern("storage.googleapis.com")!,
                path: "/\(bucket)\(prefix.path)"
            )
        case "s3":
            guard let host = HostPattern("\(bucket).s3.amazonaws.com") else {
                throw self.error(node, "the bucket name cannot be used as a host name; give fetch_from")
            }
            return AssetURLPrefix(scheme: "https", host: host, path: prefix.path)
        default:
            // An https source is fetched from the URL itself (its host checked against the glob).
            return prefix
        }
    }

    /// A list of host globs (`name` or `*.domain`), lower-cased.
    func hostGlobs(_ node: Node?, _ what: String) throws(ConfigurationError) -> [String] {
        guard let node else { return [] }
        guard let list = node.sequence else {
            throw self.error(node, "\(what) must be a list like [\"*.corp.example.com\"]")
        }
        var globs: [String] = []
        for item in list {
            let glob = try self.string(item, "\(what) entry")
            guard InternalHosts.isValidGlob(glob) else {
                throw self.error(item, "\(what) entry \"\(glob)\" must be a host name or *.domain")
            }
            globs.append(glob.lowercased())
        }
        return globs
    }
}

extension ConfigurationParser {
    /// The asset listener's address is its own.
    func checkAssetListener(_ configuration: ProxyConfiguration, node: Node) throws(ConfigurationError) {
        guard let address = configuration.assets?.listen.address, address.port != 0 else { return }
        let taken = [
            configuration.listen.address, configuration.admin?.address, configuration.callbacks?.listen?.address,
        ]
        if taken.contains(where: { $0 == address }) {
            throw self.error(
                node.mapping?["listen"] ?? node,
                "assets.listen.address must differ from listen.address, admin.address and callbacks.listen.address"
            )
        }
    }
}
