/// Whether a rule's action is applied (`enforce`, the default) or only reported (`report`): a report-mode rule is
/// matched on every request like the others, its findings are recorded as report-only, and nothing it matches is
/// changed or blocked.
///
/// The raw values are the spellings of policy schema v1 (`mode: report`).
public enum RuleMode: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case enforce
    case report

    public var description: String { rawValue }
}
