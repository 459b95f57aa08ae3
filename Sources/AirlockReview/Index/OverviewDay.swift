import AirlockAudit
import AirlockPolicy
import Foundation

/// One vendor's decisions on one UTC day: counts by decision, findings by rule and label, bytes that left.
public struct OverviewDay: Sendable {
    public var vendor: String
    /// `YYYY-MM-DD` (UTC).
    public var day: String
    public var stats: AuditStats
    /// Matches per label (the rule's default label; see ``ReviewIndex/labels(of:)``).
    public var labels: [String: Int]

    /// The days of `records`, newest first, vendors sorted within a day.
    static func days(of records: [SourcedDecision]) -> [OverviewDay] {
        var groups: [String: [Int]] = [:]
        for (position, record) in records.enumerated() {
            let key = "\(record.entry.time.prefix(10))|\(record.entry.vendor ?? "-")"
            groups[key, default: []].append(position)
        }
        return groups.map { key, positions in
            let parts = key.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            let stats = AuditStats(positions.map { records[$0].entry })
            var labels: [String: Int] = [:]
            for (rule, bucket) in stats.byRule {
                labels[RuleLabel.defaultLabel(forID: rule), default: 0] += max(bucket.matches, bucket.blocked)
            }
            return OverviewDay(vendor: String(parts[1]), day: String(parts[0]), stats: stats, labels: labels)
        }.sorted { $0.day != $1.day ? $0.day > $1.day : $0.vendor < $1.vendor }
    }
}
