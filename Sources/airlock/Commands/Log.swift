import AirlockAudit
import AirlockSupport
import ArgumentParser
import Foundation

/// `airlock log verify|show|stats|body`: reviewing what left, and proving the record was not edited.
struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract:
            "Review the egress audit log: verify it, list and count what left, print a forwarded body, hunt through it.",
        subcommands: [Verify.self, Show.self, Stats.self, Body.self, Hunt.self, HuntVerify.self]
    )
}

extension Log {
    struct Location: ParsableArguments {
        @Option(
            name: .long,
            help:
                "The audit directory (audit.directory in the config); repeat for several replicas' logs, merged by time."
        )
        var dir: [String] = []

        static let defaultDirectory = "airlock-data/audit"

        var urls: [URL] { (dir.isEmpty ? [Self.defaultDirectory] : dir).map { URL(fileURLWithPath: $0) } }
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json
    }

    struct Filters: ParsableArguments {
        @Option(
            help: "Only decisions at or after this time: RFC 3339 (2026-11-26T09:00:00Z), a date, or ago (24h, 7d)."
        )
        var since: String?
        @Option(help: "Only decisions at or before this time: RFC 3339, a date, or ago (30m, 24h, 7d).")
        var until: String?
        @Option(help: "Only this vendor.")
        var vendor: String?
        @Option(help: "Only this decision: forwarded, blocked or error.")
        var decision: String?
        @Option(help: "Only decisions where this rule id matched or blocked.")
        var rule: String?
        @Option(help: "Only this client IP or `clients:` name, or clients whose mTLS subject contains this text.")
        var client: String?
        @Option(help: "Only this reason category (policy_block, limit, ...) or reason code (body_too_large, ...).")
        var reason: String?
        @Option(help: "Only egress (the lab's requests) or inbound (vendors' callbacks).")
        var direction: String?

        func validate() throws {
            for (name, value) in [("--since", since), ("--until", until)] {
                if let value, AuditTime.parse(value) == nil {
                    throw ValidationError("\(name) '\(value)' is not \(AuditTime.accepted).")
                }
            }
            if let decision, AuditDecision(rawValue: decision) == nil {
                throw ValidationError("--decision must be forwarded, blocked or error (got '\(decision)').")
            }
            if let direction, AuditDirection(rawValue: direction) == nil {
                throw ValidationError("--direction must be egress or inbound (got '\(direction)').")
            }
        }

        /// Relative times count back from `now`, taken once for both bounds.
        func query(now: Date = Date()) -> AuditQuery {
            AuditQuery(
                since: since.flatMap { AuditTime.parse($0, now: now) },
                until: until.flatMap { AuditTime.parse($0, now: now) },
                vendor: vendor,
                decision: decision.flatMap(AuditDecision.init(rawValue:)),
                rule: rule,
                client: client,
                reason: reason,
                direction: direction.flatMap(AuditDirection.init(rawValue:))
            )
        }
    }

    /// Runs `body`, turning an audit error into a one-line message and exit code 1.
    static func reporting<T>(_ body: () throws(AuditError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            FileHandle.standardError.write(Data("airlock log: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The decisions `show` and `stats` work on, completed with their outcomes and merged by time across the
    /// directories; exit code 1 when one is unreadable.
    static func decisions(in location: Location, matching filters: Filters) throws -> [AuditEntry] {
        try reporting { () throws(AuditError) in
            try MergedAuditReader(directories: location.urls).decisions(matching: filters.query())
        }
    }

    /// Stable JSON output: sorted keys, slashes unescaped.
    static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func print(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}

// MARK: - verify

extension Log {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain, the file sequence and every checkpoint signature.",
            discussion: """
                Walks every audit-NNNNNN.jsonl file in order. With several --dir (replicas' logs), checks each one
                and prefixes its lines with the directory. Prints one summary line to standard output:
                  OK: N records (N decisions, N outcomes) in N files, seq 1-N, N checkpoints (…), FIRST .. LAST
                or, to standard error, the first bad record and what is wrong with it:
                  seq N: edited | deleted | reordered | truncated | bad signature | forged checkpoint |
                         dropped rotated file | altered body | no public key: DETAIL [FILE line L]

                Without --public-key, Certs/audit-signing.pub is used if it exists; a log with signed checkpoints
                fails when no public key is available. Repeat --public-key for a log signed by several keys.

                Exit codes: 0 the log verifies (every log, with several --dir); 1 one does not (or cannot be read).
                """
        )

        @OptionGroup var location: Location
        @Option(name: .customLong("public-key"), help: "Ed25519 public key (PEM) that signed the checkpoints.")
        var publicKeys: [String] = []
        @Flag(help: "Also check every stored forwarded body against its hash (reads and decompresses them all).")
        var checkBodies = false

        func run() async throws {
            var keys = publicKeys.map { URL(fileURLWithPath: $0) }
            if keys.isEmpty, FileManager.default.fileExists(atPath: "Certs/audit-signing.pub") {
                keys = [URL(fileURLWithPath: "Certs/audit-signing.pub")]
            }
            // Every directory is checked, even after one fails; with several, each line names its directory.
            let urls = location.urls
            var failed = false
            for url in urls {
                let prefix = urls.count > 1 ? "\(url.path): " : ""
                do {
                    let summary = try AuditVerifier.verify(directory: url, publicKeys: keys, checkBodies: checkBodies)
                    Log.print(prefix + summary.description)
                } catch {
                    FileHandle.standardError.write(Data("\(prefix)FAILED: \(error.description)\n".utf8))
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}

// MARK: - show

extension Log {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List decisions, with the vendor's answer, as a table, CSV or JSON lines.",
            discussion: """
                One row per decision, completed with its outcome (vendor status, duration). Columns: TIME, ID,
                CLIENT, VENDOR, DIRECTION (egress, or inbound for a vendor's callback), METHOD, PATH (as
                forwarded), DECISION, REASON (category: policy_block, uninspectable, route_not_allowed,
                unauthenticated, limit, vendor_error, audit, unavailable or allowed, then the blocking rule or the
                reason code), RULES (blocking rule, then finding rule ids with counts), FORWARDED BYTES, STATUS,
                DURATION MS. --format csv writes the same columns as RFC 4180 CSV with a header line (cells that a
                spreadsheet would read as a formula are prefixed with '); --format json (or --json) one JSON object
                per line. With several --dir, the logs' decisions are merged by time.
                Refusals made before any policy saw the request (unknown prefix, route not allowed, failed callback
                auth, timeouts, ...) are aggregated: one row stands for N of them from one client, marked ×N in
                DECISION ("refusals": {"count", "first", "last"} in JSON).
                Filters combine (all must match). Matched values are never in the log, so never shown.
                Asset gateway fetches are rows with METHOD GET and PATH /assets/<token fingerprint> (never the
                asset's URL); the reason carries the media type. --assets lists only them.

                Exit codes: 0 listed (possibly nothing); 1 the log cannot be read.
                """
        )

        @OptionGroup var location: Location
        @OptionGroup var filters: Filters
        @Option(help: "table (default), csv or json (JSON lines).")
        var format: Format = .table
        @Flag(help: "Print JSON lines instead of a table (same as --format json).")
        var json = false
        @Flag(help: "Only the asset gateway's fetches (path /assets/<token fingerprint>).")
        var assets = false

        func run() async throws {
            let rows = try Log.decisions(in: location, matching: filters).filter { row in
                !self.assets || (row.path ?? "").hasPrefix("/assets/")
            }
            switch json ? .json : format {
            case .json:
                let encoder = Log.jsonEncoder()
                for row in rows { Log.print(String(decoding: try encoder.encode(row), as: UTF8.self)) }
                return
            case .csv:
                Log.printCSV(rows)
                return
            case .table:
                break
            }
            let pathColumn = DecisionColumns.names.firstIndex(of: "path")
            var table = [DecisionColumns.names.map { $0.replacingOccurrences(of: "_", with: " ").uppercased() }]
            for row in rows {
                var cells = DecisionColumns.cells(row).map { $0 ?? "-" }
                if let pathColumn { cells[pathColumn] = Log.clip(cells[pathColumn], 48) }
                table.append(cells)
            }
            Log.printTable(table)
            let requests = rows.reduce(0) { $0 + $1.requests }
            var summary = "\(rows.count) decision\(rows.count == 1 ? "" : "s")"
            if requests != rows.count { summary += " (\(requests) requests)" }
            Log.print(summary)
        }
    }

    /// The rows as CSV with a header line, written in chunks (a large log is not held twice as text).
    static func printCSV(_ rows: [AuditEntry]) {
        var text = CSVRow.line(DecisionColumns.names) + "\r\n"
        for row in rows {
            text += CSVRow.line(DecisionColumns.cells(row))
            text += "\r\n"
            if text.utf8.count >= 1 << 16 {
                FileHandle.standardOutput.write(Data(text.utf8))
                text.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Cuts long cells and replaces control characters, so a logged path cannot drive the terminal.
    static func clip(_ text: String, _ width: Int) -> String {
        let safe = String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        return safe.count <= width ? safe : String(safe.prefix(width - 1)) + "…"
    }

    static func printTable(_ rows: [[String]]) {
        let rows = rows.map { $0.map { clip($0, 64) } }
        guard let header = rows.first else { return }
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        for row in rows {
            let cells = row.enumerated().map { index, cell in
                cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            print(cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}

// MARK: - stats

extension Log {
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count requests and bytes per vendor, per decision and per rule.",
            discussion: """
                Takes the same filters as `show`. The vendor, decision and reason tables count egress (the lab's
                requests to vendors); vendors' callbacks into the lab (inbound) are counted apart, per vendor, in
                the CALLBACKS table. Bytes are request bytes as received and forwarded bytes as sent
                (after redaction). Per rule: requests it matched in, total matches, requests it blocked, and
                matches per action. An aggregated refusal record counts as the requests it stands for.
                With --json, one JSON object.

                With --candidate, what the vendors' candidate policies (policy_candidate) would have done
                differently instead: requests a candidate would have blocked or forwarded, and per rule the requests
                it would have blocked, the matches it would have added or dropped, and example request ids.

                Exit codes: 0 counted; 1 the log cannot be read.
                """
        )

        @OptionGroup var location: Location
        @OptionGroup var filters: Filters
        @Flag(help: "Print one JSON object instead of tables.")
        var json = false
        @Flag(help: "Summarise where the candidate policies would have decided differently.")
        var candidate = false

        func run() async throws {
            if candidate {
                try Log.printCandidateStats(
                    CandidateStats(try Log.decisions(in: location, matching: filters)),
                    json: json
                )
                return
            }
            let stats = AuditStats(try Log.decisions(in: location, matching: filters))
            if json {
                Log.print(String(decoding: try Log.jsonEncoder().encode(stats), as: UTF8.self))
                return
            }
            func buckets(_ title: String, _ buckets: [String: AuditStats.Bucket], total: AuditStats.Bucket) {
                var table = [[title, "REQUESTS", "FORWARDED", "BLOCKED", "ERROR", "REQUEST BYTES", "FORWARDED BYTES"]]
                for (name, bucket) in buckets.sorted(by: { $0.key < $1.key }) + [("TOTAL", total)] {
                    table.append([
                        name, "\(bucket.requests)", "\(bucket.forwarded)", "\(bucket.blocked)", "\(bucket.error)",
                        "\(bucket.requestBytes)", "\(bucket.forwardedBytes)",
                    ])
                }
                Log.printTable(table)
                Log.print("")
            }
            buckets("VENDOR", stats.byVendor, total: stats.total)
            buckets("DECISION", stats.byDecision, total: stats.total)
            buckets("REASON", stats.byReason, total: stats.total)
            if stats.inbound.requests > 0 { buckets("CALLBACKS", stats.inboundByVendor, total: stats.inbound) }
            var rules = [["RULE", "REQUESTS", "MATCHES", "BLOCKED", "ACTIONS"]]
            for (rule, bucket) in stats.byRule.sorted(by: { $0.key < $1.key }) {
                let actions = bucket.actions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                rules.append([
                    rule, "\(bucket.requests)", "\(bucket.matches)", "\(bucket.blocked)",
                    actions.isEmpty ? "-" : actions.joined(separator: ","),
                ])
            }
            Log.printTable(rules)
        }
    }
}

extension Log {
    static func printCandidateStats(_ stats: CandidateStats, json: Bool) throws {
        if json {
            Log.print(String(decoding: try Log.jsonEncoder().encode(stats), as: UTF8.self))
            return
        }
        Log.print(
            "\(stats.differing) of \(stats.decisions) decisions differ under "
                + "\(stats.policies.isEmpty ? "no candidate" : stats.policies.joined(separator: ", ")): "
                + "\(stats.wouldBlock) forwarded would have been blocked, \(stats.wouldForward) blocked would have left"
        )
        var table = [["RULE", "WOULD BLOCK", "REQUESTS +", "MATCHES +", "REQUESTS -", "MATCHES -", "EXAMPLES"]]
        for (rule, bucket) in stats.byRule.sorted(by: { $0.key < $1.key }) {
            table.append([
                rule, "\(bucket.wouldBlock)", "\(bucket.requestsWithMore)", "\(bucket.added)",
                "\(bucket.requestsWithFewer)", "\(bucket.removed)", bucket.examples.joined(separator: ","),
            ])
        }
        if table.count > 1 { Log.printTable(table) }
    }
}

// MARK: - body

extension Log {
    struct Body: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the stored forwarded body (the bytes the vendor received, after redaction).",
            discussion: """
                REFERENCE is the body's SHA-256 (forwarded_sha256 in the log) or the request id. The stored body is
                checked against its hash before it is printed, byte for byte, to standard output.

                Exit codes: 0 printed; 1 not found, not stored (audit.store_bodies: false), or altered.
                """
        )

        @OptionGroup var location: Location
        @Argument(help: "SHA-256 of the body, or the request id (Airlock-Request-Id).")
        var reference: String

        func run() async throws {
            let body = try Log.reporting { () throws(AuditError) in
                // With several directories, the first that holds the body answers.
                let urls = location.urls
                for url in urls.dropLast() {
                    do throws(AuditError) {
                        return try AuditLogReader(directory: url).body(for: reference)
                    } catch {
                        guard error.code == .notFound else { throw error }
                    }
                }
                return try AuditLogReader(directory: urls[urls.count - 1]).body(for: reference)
            }
            FileHandle.standardOutput.write(Data(body))
        }
    }
}
