import AirlockAudit
import AirlockPolicy
import Foundation

extension ReviewPages {
    func record(_ position: Int) -> String {
        struct Field {
            var name: String
            var value: String
        }
        struct Finding {
            var id, label, action: String
            var count: Int
            var paths: [String]
        }
        struct Segment {
            var text: String
            var placeholder: Bool
            var pseudonym: Bool
            var plain: Bool
        }
        struct Model {
            var title: String
            var chrome: Chrome
            var reason: String
            var fields: [Field]
            var findings: [Finding]
            var bodyNote: String?
            var hasBody: Bool
            var segments: [Segment]
        }
        let record = console.index.records[position]
        let entry = record.entry
        let (body, note) = storedBody(record)
        let segments = body.map { BodySegments($0, for: entry).segments } ?? []
        let model = Model(
            title: "Decision \(entry.id ?? "-")",
            chrome: chrome,
            reason: DecisionReason.text(of: entry),
            fields: Self.fields(of: record).map { Field(name: $0.0, value: $0.1) },
            findings: (entry.findings ?? []).map {
                Finding(
                    id: $0.id,
                    label: RuleLabel.defaultLabel(forID: $0.id),
                    action: $0.action,
                    count: $0.count,
                    paths: $0.paths
                )
            },
            bodyNote: note,
            hasBody: body != nil,
            segments: segments.map {
                Segment(
                    text: $0.text,
                    placeholder: $0.kind == .placeholder,
                    pseudonym: $0.kind == .pseudonym,
                    plain: $0.kind == .text
                )
            }
        )
        return ReviewTemplates.render(model, "record")
    }

    /// The body as it left, or why there is none to show.
    private func storedBody(_ record: SourcedDecision) -> ([UInt8]?, String?) {
        let entry = record.entry
        guard let sha256 = entry.forwardedSHA256 else { return (nil, "Nothing was forwarded.") }
        guard let location = entry.body else {
            return (nil, "The forwarded body was not stored (audit.store_bodies: false).")
        }
        do {
            let body = try AuditLogReader(directory: console.directories[record.directory])
                .storedBody(at: location, sha256: sha256)
            return (body, body.isEmpty ? "The forwarded body was empty." : nil)
        } catch {
            return (nil, "The stored body cannot be shown: \(error.message)")
        }
    }

    /// Every field of the record, in the log's words.
    static func fields(of record: SourcedDecision) -> [(String, String)] {
        let entry = record.entry
        func text(_ value: (some CustomStringConvertible)?) -> String { value.map(\.description) ?? "-" }
        var fields: [(String, String)] = [
            ("directory", String(record.directory)), ("seq", String(entry.seq)), ("time", entry.time),
            ("id", text(entry.id)), ("vendor", text(entry.vendor)), ("client ip", text(entry.client?.ip)),
            ("client name", text(entry.client?.name)), ("client subject", text(entry.client?.subject)),
            ("method", text(entry.method)), ("path", text(entry.path)), ("decision", text(entry.decision?.rawValue)),
            ("reason code", text(entry.reason)), ("rule", text(entry.rule)), ("policy", text(entry.policy)),
            ("request bytes", text(entry.requestBytes)), ("forwarded bytes", text(entry.forwardedBytes)),
            ("forwarded sha256", text(entry.forwardedSHA256)), ("body", text(entry.body)),
            ("response status", text(entry.status)), ("duration ms", text(entry.durationMs)),
            ("error", text(entry.error)),
            ("hash", entry.hash), ("prev", entry.prev),
        ]
        if let refusals = entry.refusals {
            fields.append(("refusals", "\(refusals.count) (\(refusals.first) .. \(refusals.last))"))
        }
        return fields
    }
}
