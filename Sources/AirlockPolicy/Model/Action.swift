/// What happens to content a rule matches.
///
/// The raw values are the spellings of policy schema v1; they are a contract with policy authors.
public enum Action: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Replace the match with `[REDACTED:LABEL]`.
    case redact
    /// Replace the match with the same number of `•` characters.
    case mask
    /// Replace the match with `LABEL_` and the first 12 hex digits of a keyed HMAC.
    case hash
    /// Replace the match with a keyed, deterministic, per-vendor token that responses can be restored from.
    case pseudonymize
    /// Refuse the whole request: nothing leaves.
    case block
    /// Remove the key and its value. Only valid for `fields` rules.
    case drop

    /// The actions a term, pattern or detector rule may use (everything but `drop`).
    public static let contentActions: [Action] = [.redact, .mask, .hash, .pseudonymize, .block]
    /// The actions a `fields` rule may use.
    public static let fieldActions: [Action] = [.drop, .hash, .redact, .mask, .pseudonymize, .block]

    /// Overlapping matches resolve to the action with the highest precedence:
    /// block > drop > redact > hash > pseudonymize > mask. Ties then go to the leftmost-longest match.
    public var precedence: Int {
        switch self {
        case .block: 6
        case .drop: 5
        case .redact: 4
        case .hash: 3
        case .pseudonymize: 2
        case .mask: 1
        }
    }

    public var description: String { rawValue }
}
