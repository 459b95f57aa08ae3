/// A literal dictionary: codenames, unreleased model names, customer names.
public struct TermRule: Sendable, Hashable {
    /// Stable identifier, unique across the policy and its includes; shown in findings and logs.
    public var id: String
    /// Shown in placeholders and tokens.
    public var label: String
    /// Never `.drop`.
    public var action: Action
    /// The terms: `values` from the policy followed by the lines of every `files` entry, trimmed, duplicates removed,
    /// in first-seen order. Never empty in a loaded policy.
    public var values: [String]
    /// Default `false`: `Nightingale` also matches `NIGHTINGALE`.
    public var caseSensitive: Bool
    /// Default `true`: a term only matches on word boundaries (`Falcon` does not match inside `Falconry`).
    public var wholeWord: Bool
    /// Default `true`: a term also matches its everyday spellings: any case; multi-word terms joined by space, `-`,
    /// `_`, `.` or nothing; a possessive (`Nightingale's`); a version or size suffix (`Nightingale-v3`,
    /// `nightingale-v3-instruct`, `Tidewater-7B`).
    public var variants: Bool
    /// `enforce` (default) applies the action; `report` only records what the rule matches.
    public var mode: RuleMode
    /// Where the rule starts (its `- id:` line).
    public var location: SourceLocation

    public init(
        id: String,
        label: String? = nil,
        action: Action,
        values: [String],
        caseSensitive: Bool = false,
        wholeWord: Bool = true,
        variants: Bool = true,
        mode: RuleMode = .enforce,
        location: SourceLocation = SourceLocation(file: "<memory>", line: 0, column: 0)
    ) {
        self.id = id
        self.label = label ?? RuleLabel.defaultLabel(forID: id)
        self.action = action
        self.values = values
        self.caseSensitive = caseSensitive
        self.wholeWord = wholeWord
        self.variants = variants
        self.mode = mode
        self.location = location
    }
}
