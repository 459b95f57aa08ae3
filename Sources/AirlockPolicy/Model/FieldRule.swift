/// A rule on structured (JSON) bodies, applied by path.
public struct FieldRule: Sendable, Hashable {
    /// Stable identifier. Defaults to the path as written (`$..run_id`).
    public var id: String
    /// Defaults to the explicit `id` uppercased like every rule's (`annotator-email` -> `ANNOTATOR_EMAIL`); without an
    /// explicit id, to the last key of the path uppercased (`$..run_id` -> `RUN_ID`), or `FIELD` when it names none.
    public var label: String
    public var path: JSONPath
    /// Any action, including `.drop` (remove the key and its value).
    public var action: Action
    /// `enforce` (default) applies the action; `report` only records what the rule matches.
    public var mode: RuleMode
    public var location: SourceLocation

    public init(
        id: String? = nil,
        label: String? = nil,
        path: JSONPath,
        action: Action,
        mode: RuleMode = .enforce,
        location: SourceLocation = SourceLocation(file: "<memory>", line: 0, column: 0)
    ) {
        self.id = id ?? path.description
        self.label = label ?? id.map(RuleLabel.defaultLabel(forID:)) ?? FieldRule.defaultLabel(for: path)
        self.path = path
        self.action = action
        self.mode = mode
        self.location = location
    }

    /// The label of a field rule that does not give one.
    public static func defaultLabel(for path: JSONPath) -> String {
        for segment in path.segments.reversed() {
            switch segment {
            case .key(let name), .descendant(let name):
                return RuleLabel.defaultLabel(forID: name)
            case .index, .wildcard:
                continue
            }
        }
        return "FIELD"
    }
}
