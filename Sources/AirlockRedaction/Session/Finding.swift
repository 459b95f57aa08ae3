import AirlockPolicy

/// What one rule did to one body: which rule, what it did, how often and where. Never the matched value; where
/// correlation across requests is useful, `fingerprints` holds keyed, vendor-independent fingerprints of the values.
public struct Finding: Sendable, Codable, Hashable {
    /// The rule id (`codenames`, `email`, `$..run_id`, `content.unknown`).
    public var rule: String
    /// The action taken: `redact`, `mask`, `hash`, `pseudonymize`, `drop` or `block`.
    public var action: String
    /// How many matches (or fields) the rule acted on.
    public var count: Int
    /// JSONPath of each place (`$.messages[2].content`), at most `Finding.maxPaths`, first seen first. Empty for
    /// plain-text bodies. Keys are written as they left (`$.CODENAME_7QK2M.note`), or as a keyed fingerprint
    /// (`[<key 1a2b3c4d5e6f>]`) when they have no written form; escaped and capped (`ReportedText`).
    public var paths: [String]
    /// Keyed fingerprints (12 hex digits) of the distinct matched values, at most `Finding.maxFingerprints`.
    public var fingerprints: [String]
    /// `.report` for a `mode: report` rule's finding: what it matched in what left, its action not applied. Nil for
    /// the findings of the rules that decided.
    public var mode: RuleMode?

    public static let maxPaths = 20
    public static let maxFingerprints = 10

    public init(
        rule: String,
        action: String,
        count: Int,
        paths: [String] = [],
        fingerprints: [String] = [],
        mode: RuleMode? = nil
    ) {
        self.mode = mode
        self.rule = rule
        self.action = action
        self.count = count
        self.paths = paths
        self.fingerprints = fingerprints
    }
}

/// The decision on one body.
public enum RedactionOutcome: Sendable {
    /// Forward `body` (identical to the input when nothing matched; re-compressed when the input was).
    case forward(body: [UInt8], findings: [Finding])
    /// A policy rule with `action: block` matched, or the content type is unknown and `content.unknown` is `block`.
    /// Nothing may be forwarded (HTTP 403 blocked_by_policy).
    case block(rule: String, reason: String, findings: [Finding])
    /// The body could not be decoded or parsed (malformed JSON, bad gzip, broken multipart, invalid UTF-8, a
    /// decompression limit). Nothing may be forwarded (HTTP 422).
    case uninspectable(reason: String, findings: [Finding])

    public var findings: [Finding] {
        switch self {
        case .forward(_, let findings), .block(_, _, let findings), .uninspectable(_, let findings): findings
        }
    }

    /// The body to forward, or `nil` when nothing may leave.
    public var forwardedBody: [UInt8]? {
        if case .forward(let body, _) = self { return body }
        return nil
    }
}

/// The decision on one body from `Redactor.redactWithoutCopy`: `RedactionOutcome`, except that a body that may leave
/// as it is comes back as `.unchanged` rather than as a copy.
public enum UncopiedRedactionOutcome: Sendable {
    /// Forward the caller's bytes exactly as they are (nothing matched, or only rules that change nothing).
    case unchanged(findings: [Finding])
    /// Forward `body` instead of the caller's bytes (re-compressed when the input was).
    case forward(body: [UInt8], findings: [Finding])
    /// See `RedactionOutcome.block`: nothing may be forwarded.
    case block(rule: String, reason: String, findings: [Finding])
    /// See `RedactionOutcome.uninspectable`: nothing may be forwarded.
    case uninspectable(reason: String, findings: [Finding])
}
