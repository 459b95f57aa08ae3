import AirlockAudit
import AirlockSupport
import Foundation

/// The filters of the decision list and its exports, read from a query string. Unknown values are kept as given
/// (they match nothing); oversized values are cut, so a hostile query cannot make the console work harder.
public struct ReviewFilter: Sendable, Equatable {
    /// The longest filter value read; longer ones are cut to this many characters.
    static let longestValue = 256

    public var vendor: String?
    public var decision: AuditDecision?
    /// A decision value that is not one of forwarded / blocked / error: matches nothing.
    public var unknownDecision = false
    public var reason: String?
    public var rule: String?
    public var label: String?
    public var client: String?
    /// As given (`24h`, `7d`, `2026-11-26`, an RFC 3339 time), to be shown back in the form.
    public var since: String?
    public var until: String?
    /// Set when `since` or `until` is neither a relative nor an absolute time.
    public var timeError: String?

    public init() {}

    /// Reads the filter parameters of `query` (already split and percent-decoded); empty values are no filter.
    /// `now` anchors relative times.
    public init(parameters: [String: String], now: Date = Date()) {
        func value(_ name: String) -> String? {
            guard let raw = parameters[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return String(raw.prefix(Self.longestValue))
        }
        vendor = value("vendor")
        if let text = value("decision") {
            decision = AuditDecision(rawValue: text)
            unknownDecision = decision == nil
        }
        reason = value("reason")
        rule = value("rule")
        label = value("label")
        client = value("client")
        since = value("since")
        until = value("until")
        for (name, text) in [("since", since), ("until", until)] {
            if let text, RelativeTime.date(from: text, now: now) == nil {
                timeError = "\(name) is not a time: use 24h, 7d, 30m, 2026-11-26 or 2026-11-26T09:00:00Z"
            }
        }
        self.now = now
    }

    private var now = Date()

    /// The query AirlockAudit applies to an entry: time range, vendor, decision, rule, client.
    var auditQuery: AuditQuery {
        AuditQuery(
            since: since.flatMap { RelativeTime.date(from: $0, now: now) },
            until: until.flatMap { RelativeTime.date(from: $0, now: now) },
            vendor: vendor,
            decision: decision,
            rule: rule,
            client: client
        )
    }

    /// Whether any filter is set.
    public var isEmpty: Bool {
        vendor == nil && decision == nil && !unknownDecision && reason == nil && rule == nil && label == nil
            && client == nil && since == nil && until == nil
    }

    /// The filter as query parameters, in a fixed order (links to other pages and the exports keep it).
    public var parameters: [(String, String)] {
        [
            ("vendor", vendor), ("decision", decision?.rawValue ?? (unknownDecision ? "?" : nil)), ("reason", reason),
            ("rule", rule), ("label", label), ("client", client), ("since", since), ("until", until),
        ].compactMap { name, value in value.map { (name, $0) } }
    }

    /// `parameters` as a percent-encoded query string (without `?`).
    public var queryString: String {
        parameters.map { "\($0)=\(QueryString.encode($1))" }.joined(separator: "&")
    }

    public static func == (left: ReviewFilter, right: ReviewFilter) -> Bool {
        left.parameters.elementsEqual(right.parameters) { $0 == $1 }
    }
}
