/// A regular expression rule, optionally gated by hotwords nearby.
public struct PatternRule: Sendable, Hashable {
    /// How many characters around a match `near` words are looked for when the policy gives no `within`.
    public static let defaultWithin = 80

    public var id: String
    public var label: String
    /// Never `.drop`.
    public var action: Action
    /// The expression, in the subset Vectorscan compiles: no backreferences, lookarounds, atomic groups, possessive
    /// quantifiers or conditionals (the loader rejects those), and it never matches the empty string.
    public var regex: String
    /// Hotwords, matched case-insensitively as whole words. Empty: the pattern matches anywhere.
    public var near: [String]
    /// When `near` is non-empty, at least one hotword must occur within this many characters before the start or
    /// after the end of the match.
    public var within: Int
    /// `enforce` (default) applies the action; `report` only records what the rule matches.
    public var mode: RuleMode
    public var location: SourceLocation

    public init(
        id: String,
        label: String? = nil,
        action: Action,
        regex: String,
        near: [String] = [],
        within: Int = PatternRule.defaultWithin,
        mode: RuleMode = .enforce,
        location: SourceLocation = SourceLocation(file: "<memory>", line: 0, column: 0)
    ) {
        self.id = id
        self.label = label ?? RuleLabel.defaultLabel(forID: id)
        self.action = action
        self.regex = regex
        self.near = near
        self.within = within
        self.mode = mode
        self.location = location
    }
}
