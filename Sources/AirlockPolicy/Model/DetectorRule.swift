/// A built-in detector with its options.
///
/// In YAML a detector is a one-key mapping: `- email: {action: pseudonymize, domains: [lab.example.com]}`.
/// Its `id` defaults to the kind (`email`), so a second detector of the same kind needs an explicit `id`.
public struct DetectorRule: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// E-mail addresses, optionally only those under `domains`.
        case email
        /// Credentials: private keys, AWS, GitHub, GitLab, Slack, Stripe, Google, OpenAI, Anthropic, npm and Azure
        /// formats, JWTs, bearer tokens, and generic credential assignments (the matcher's `SecretFormats`).
        case secret
        /// http(s) URLs, optionally only those whose host matches one of `hosts`.
        case url
        /// IPv4 and IPv6 addresses, optionally only those inside `ranges`.
        case ip

        public var description: String { rawValue }
    }

    public var kind: Kind
    public var id: String
    public var label: String
    /// Never `.drop`.
    public var action: Action
    /// `email` only. Lowercased domains; an address matches when its domain is one of these or a subdomain of one.
    /// Empty: every address matches.
    public var domains: [String]
    /// `url` only. Host globs; empty: every URL matches.
    public var hosts: [HostPattern]
    /// `ip` only. Empty: every address matches.
    public var ranges: [CIDRRange]
    /// `enforce` (default) applies the action; `report` only records what the rule matches.
    public var mode: RuleMode
    public var location: SourceLocation

    public init(
        kind: Kind,
        id: String? = nil,
        label: String? = nil,
        action: Action,
        domains: [String] = [],
        hosts: [HostPattern] = [],
        ranges: [CIDRRange] = [],
        mode: RuleMode = .enforce,
        location: SourceLocation = SourceLocation(file: "<memory>", line: 0, column: 0)
    ) {
        self.kind = kind
        self.id = id ?? kind.rawValue
        self.label = label ?? RuleLabel.defaultLabel(forID: id ?? kind.rawValue)
        self.action = action
        self.domains = domains.map { $0.lowercased() }
        self.hosts = hosts
        self.ranges = ranges
        self.mode = mode
        self.location = location
    }

    /// Whether an e-mail address with this domain is covered by the `domains` option (always, when it is empty).
    public func coversEmailDomain(_ domain: String) -> Bool {
        if domains.isEmpty { return true }
        let domain = domain.lowercased()
        return domains.contains { domain == $0 || domain.hasSuffix("." + $0) }
    }

    /// Whether a URL with this host is covered by the `hosts` option (always, when it is empty).
    public func coversHost(_ host: String) -> Bool {
        hosts.isEmpty || hosts.contains { $0.matches(host) }
    }

    /// Whether this textual address is covered by the `ranges` option (always, when it is empty and the text is an
    /// address). Returns `false` for text that is not an IPv4 or IPv6 address.
    public func coversAddress(_ address: String) -> Bool {
        guard let bytes = CIDRRange.parseAddress(address) else { return false }
        return ranges.isEmpty || ranges.contains { $0.contains(bytes) }
    }
}
