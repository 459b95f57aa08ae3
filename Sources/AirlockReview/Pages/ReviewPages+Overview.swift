import AirlockAudit
import Foundation

extension ReviewPages {
    /// The most vendor-day rows the overview shows (newest first).
    static let overviewRows = 90

    func overview() -> String {
        struct Chain {
            var directory: String
            var state: String
            var checkpoint: String
            var keys: String
            var detail: String
        }
        struct Day {
            var day: String
            var vendor: String
            var query: String
            var requests, forwarded, blocked, error, bytes: Int
            var rules: [Tag]
            var labels: [Tag]
        }
        struct Model {
            var title = "Overview"
            var chrome: Chrome
            var chains: [Chain]
            var days: [Day]
            var more: String?
            var records: Int
            var buildTime: String
        }
        let chains = zip(console.directories, console.chains.current).map { directory, state in
            switch state {
            case .pending:
                return Chain(
                    directory: directory.path,
                    state: "pending",
                    checkpoint: "-",
                    keys: "-",
                    detail: "verifying…"
                )
            case .verified(let summary):
                return Chain(
                    directory: directory.path,
                    state: "verified",
                    checkpoint: summary.checkpoints == 0 ? "none" : "covers seq 1-\(summary.checkpointedThrough)",
                    keys: summary.signedCheckpoints == 0
                        ? "unsigned (hash chain only)" : summary.keyIDs.sorted().joined(separator: ", "),
                    detail: summary.description
                )
            case .failed(let detail):
                return Chain(directory: directory.path, state: "failed", checkpoint: "-", keys: "-", detail: detail)
            }
        }
        let rows = console.index.overview
        let days = rows.prefix(Self.overviewRows).map { row in
            var filter = ReviewFilter()
            filter.vendor = row.vendor
            filter.since = row.day
            filter.until = "\(row.day)T23:59:59.999Z"
            return Day(
                day: row.day,
                vendor: row.vendor,
                query: filter.queryString,
                requests: row.stats.total.requests,
                forwarded: row.stats.total.forwarded,
                blocked: row.stats.total.blocked,
                error: row.stats.total.error,
                bytes: row.stats.total.forwardedBytes,
                rules: Self.tags(row.stats.byRule.mapValues { max($0.matches, $0.blocked) }),
                labels: Self.tags(row.labels)
            )
        }
        let model = Model(
            chrome: chrome,
            chains: chains,
            days: Array(days),
            more: rows.count > Self.overviewRows
                ? "The newest \(Self.overviewRows) of \(rows.count) vendor-days; filter the decision list for older ones."
                : nil,
            records: console.index.records.count,
            buildTime: String(format: "%.2f s (reading %.2f s)", console.index.buildSeconds, console.readSeconds)
        )
        return ReviewTemplates.render(model, "overview")
    }
}
