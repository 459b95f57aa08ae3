import AirlockAudit
import AirlockPolicy
import AirlockSupport
import Foundation

/// Every decision of the console's directories in time order, with posting lists per vendor, decision, reason,
/// rule and label and the overview's per-vendor, per-day counts, all built once when the console starts. A filtered
/// page walks the smallest posting list the filter allows (clipped to the time range by binary search) instead of
/// every record.
public final class ReviewIndex: Sendable {
    /// The facets that have posting lists.
    enum Facet: Int, CaseIterable {
        case vendor, decision, reason, rule, label
        /// A client's IP and its configured name (both kept under this facet).
        case client
        /// A client's mTLS subject (the client filter matches a part of it).
        case subject
    }

    public let records: [SourcedDecision]
    /// The reason category of each record, by position.
    let reasons: [DecisionReason]
    /// Per facet, per value: the positions of the records with that value, ascending.
    let postings: [[String: [Int32]]]
    /// `directory/id` -> position.
    let positions: [String: Int32]
    /// Per vendor and day, newest day first.
    public let overview: [OverviewDay]
    /// How long building took, in seconds (reading the logs apart).
    public let buildSeconds: Double

    public init(_ records: [SourcedDecision]) {
        let started = Date()
        self.records = records
        var reasons: [DecisionReason] = []
        reasons.reserveCapacity(records.count)
        var postings = [[String: [Int32]]](repeating: [:], count: Facet.allCases.count)
        var positions: [String: Int32] = [:]
        positions.reserveCapacity(records.count)
        for (position, record) in records.enumerated() {
            let entry = record.entry
            let reason = DecisionReason.of(entry)
            reasons.append(reason)
            let at = Int32(position)
            if let id = entry.id { positions["\(record.directory)/\(id)"] = at }
            postings[Facet.vendor.rawValue][entry.vendor ?? "-", default: []].append(at)
            postings[Facet.decision.rawValue][entry.decision?.rawValue ?? "-", default: []].append(at)
            postings[Facet.reason.rawValue][reason.rawValue, default: []].append(at)
            for rule in Self.rules(of: entry) {
                postings[Facet.rule.rawValue][rule, default: []].append(at)
            }
            for label in Self.labels(of: entry) {
                postings[Facet.label.rawValue][label, default: []].append(at)
            }
            if let client = entry.client {
                postings[Facet.client.rawValue][client.ip, default: []].append(at)
                if let name = client.name, name != client.ip {
                    postings[Facet.client.rawValue][name, default: []].append(at)
                }
                if let subject = client.subject {
                    postings[Facet.subject.rawValue][subject, default: []].append(at)
                }
            }
        }
        self.reasons = reasons
        self.postings = postings
        self.positions = positions
        self.overview = OverviewDay.days(of: records)
        self.buildSeconds = Date().timeIntervalSince(started)
    }

    /// The rules a record names: the blocking rule and every finding's, once each.
    static func rules(of entry: AuditEntry) -> Set<String> {
        var rules = Set((entry.findings ?? []).map(\.id))
        if let rule = entry.rule { rules.insert(rule) }
        return rules
    }

    /// The labels of a record's rules. The log names rules by id; a rule's label is its default label (the id
    /// uppercased, `_` for other characters), which is what placeholders show unless the policy renames it.
    static func labels(of entry: AuditEntry) -> Set<String> {
        Set(rules(of: entry).map(RuleLabel.defaultLabel(forID:)))
    }

    /// The record at `directory`/`id`, if any.
    public func record(directory: Int, id: String) -> Int? {
        positions["\(directory)/\(id)"].map(Int.init)
    }

    public func reason(at position: Int) -> DecisionReason { reasons[position] }

    /// The vendors, sorted.
    public var vendors: [String] { postings[Facet.vendor.rawValue].keys.sorted() }

    /// The values a facet takes, sorted (for the filter form's suggestions).
    func values(of facet: Facet) -> [String] { postings[facet.rawValue].keys.sorted() }

    /// An estimate of the index's own memory (posting lists, reason table, id table), in bytes; the records
    /// themselves are not counted.
    public var indexBytes: Int {
        let postingBytes = postings.reduce(0) { sum, facet in
            sum + facet.reduce(0) { $0 + $1.key.utf8.count + 16 + $1.value.count * 4 }
        }
        let idBytes = positions.reduce(0) { $0 + $1.key.utf8.count + 24 }
        return postingBytes + idBytes + reasons.count
    }
}
