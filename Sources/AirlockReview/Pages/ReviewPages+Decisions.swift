import AirlockAudit
import Foundation

extension ReviewPages {
    func decisions(_ filter: ReviewFilter, page: Int, perPage: Int) -> String {
        struct Row {
            var link, time, vendor, client, method, path, decision, reason, status, findings: String
            var requestBytes, forwardedBytes: String
        }
        struct FilterValues {
            var vendor, rule, label, client, since, until: String?
        }
        struct Model {
            var title = "Decisions"
            var chrome: Chrome
            var filter: FilterValues
            var vendors: [String]
            var decisionOptions: [Option]
            var reasonOptions: [Option]
            var timeError: String?
            var total, page, pageCount: Int
            var query: String
            var rows: [Row]
            var previous, next: String?
        }
        let index = console.index
        let selection = index.select(filter, page: page, perPage: perPage)
        let rows = selection.positions.map { position in
            let record = index.records[position]
            let entry = record.entry
            return Row(
                link: Self.link(record),
                time: entry.time,
                vendor: entry.vendor ?? "-",
                client: Self.client(entry.client),
                method: entry.method ?? "-",
                path: entry.path ?? "-",
                decision: entry.decision?.rawValue ?? "-",
                reason: DecisionReason.text(of: entry),
                status: entry.status.map(String.init) ?? "-",
                findings: Self.findings(entry),
                requestBytes: entry.requestBytes.map(String.init) ?? "-",
                forwardedBytes: entry.forwardedBytes.map(String.init) ?? "-"
            )
        }
        let query = filter.queryString
        func pageLink(_ number: Int) -> String { "/decisions?\(query.isEmpty ? "" : query + "&")page=\(number)" }
        let model = Model(
            chrome: chrome,
            filter: FilterValues(
                vendor: filter.vendor,
                rule: filter.rule,
                label: filter.label,
                client: filter.client,
                since: filter.since,
                until: filter.until
            ),
            vendors: index.vendors,
            decisionOptions: AuditDecision.allCases.map { Option(value: $0.rawValue, selected: $0 == filter.decision) },
            reasonOptions: DecisionReason.allCases.map {
                Option(value: $0.rawValue, selected: $0.rawValue == filter.reason)
            },
            timeError: filter.timeError,
            total: selection.total,
            page: selection.page,
            pageCount: selection.pageCount,
            query: query,
            rows: rows,
            previous: selection.page > 1 ? pageLink(selection.page - 1) : nil,
            next: selection.page < selection.pageCount ? pageLink(selection.page + 1) : nil
        )
        return ReviewTemplates.render(model, "decisions")
    }
}
