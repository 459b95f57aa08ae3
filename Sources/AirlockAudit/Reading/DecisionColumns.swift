import Foundation

/// The columns a reviewer reads for each decision, shared by `airlock log show` (table and CSV) and the review
/// console's exports: what each cell says is decided once. Every cell comes from the record, which holds nothing the
/// policy hides.
public enum DecisionColumns {
    /// Column names, in order: upper case for tables, as written here for CSV headers.
    public static let names = [
        "time", "id", "client", "vendor", "direction", "method", "path", "decision", "reason", "rules",
        "forwarded_bytes", "status", "duration_ms",
    ]

    /// The cells of `row` in the order of ``names``; nil where the record has no value.
    public static func cells(_ row: AuditEntry) -> [String?] {
        let client = [row.client?.name, row.client?.ip, row.client?.subject].compactMap { $0 }
        return [
            row.time, row.id, client.isEmpty ? nil : client.joined(separator: " "), row.vendor,
            row.direction?.rawValue ?? (row.event == .decision ? AuditDirection.egress.rawValue : nil), row.method,
            row.path, row.decision.map { $0.rawValue + (row.refusals.map { "×\($0.count)" } ?? "") }, reason(row),
            rules(row), row.forwardedBytes.map(String.init), row.status.map(String.init),
            row.durationMs.map { String(format: "%.1f", $0) },
        ]
    }

    /// The reason category, then what names it more precisely: the blocking rule for a policy block, the reason
    /// code when it says more than the category (`limit: body_too_large`). Records written before categories were
    /// recorded show their reason code alone.
    public static func reason(_ row: AuditEntry) -> String? {
        guard let category = row.category else { return row.reason }
        let detail: String? =
            switch category {
            case .policyBlock: row.rule ?? row.reason
            default: row.reason
            }
        guard let detail, detail != category.rawValue else { return category.rawValue }
        return "\(category.rawValue): \(detail)"
    }

    /// The blocking rule, then each finding's rule id with its count.
    public static func rules(_ row: AuditEntry) -> String? {
        var rules = row.rule.map { ["\($0)(block)"] } ?? []
        rules += (row.findings ?? []).map { "\($0.id)×\($0.count)" }
        return rules.isEmpty ? nil : rules.joined(separator: ",")
    }
}
