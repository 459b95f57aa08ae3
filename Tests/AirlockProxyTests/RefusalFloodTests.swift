import AirlockAudit
import AirlockProxy
import Foundation
import Testing

/// Refusals are cheap to provoke, so they must stay cheap to record; and the audit disk must not fill up: a real
/// `airlock serve` process, curl, and the `airlock log` commands.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct RefusalFloodTests {
    static let policy = """
        version: 1
        name: flood-test
        terms:
          - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale"]}
        """

    /// Runs `airlock <arguments>`; fails the test on a non-zero exit.
    static func airlock(_ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeCommandTests.airlockBinary)
        process.arguments = arguments
        let result = try await Curl.execute(process, timeout: 60)
        #expect(result.exitCode == 0, "airlock \(arguments.joined(separator: " ")): \(result.stdout)\(result.stderr)")
        return result.stdout
    }

    static func waitUntilListening(_ airlock: ServedAirlock) async -> Bool {
        await eventually(timeout: 30) {
            (try? Curl.runBlocking(["http://127.0.0.1:\(airlock.adminPort)/healthz"]))?.status == 200
        }
    }

    /// One keep-alive connection, 1,000 requests outside the route allowlist (GET where only POST is allowed):
    /// 1,000 answers 403, and a handful of records whose counts add up to 1,000, which `log show`, `log stats` and
    /// `log verify` all read. Before aggregation this made 1,000 fsync'd records.
    @Test func aThousandRefusalsOnOneConnectionMakeAHandfulOfRecords() async throws {
        try await ServedAirlock.with(policy: Self.policy, audit: "{directory: audit}") { airlock in
            #expect(await Self.waitUntilListening(airlock))
            let list = airlock.directory + "/urls.txt"
            let url = "https://127.0.0.1:\(airlock.port)/scale/v1/task/Nightingale"
            try String(repeating: "url = \"\(url)\"\n", count: 1000).write(
                toFile: list,
                atomically: true,
                encoding: .utf8
            )
            let result = try await Curl.run(
                ["--cacert", airlock.certificates.caCertificatePath, "-K", list],
                timeout: 120
            )
            let transfers = result.transfers
            #expect(transfers.count == 1000, "\(result.stderr)")
            #expect(transfers.allSatisfy { $0.status == 403 && errorCode($0.body) == "route_not_allowed" })
            #expect(transfers.map(\.connects).reduce(0, +) == 1, "not one keep-alive connection")

            // SIGTERM: the proxy writes what it has counted, then the log's final checkpoint.
            airlock.signal(SIGTERM)
            #expect(await eventually(timeout: 30) { !airlock.process.isRunning })
            #expect(airlock.process.terminationStatus == 0)
            #expect(airlock.vendor.connectionCount == 0)

            let audit = airlock.directory + "/audit"
            let shown = try await Self.airlock(["log", "show", "--json", "--dir", audit])
            let rows = try shown.split(separator: "\n").map {
                try JSONDecoder().decode(AuditEntry.self, from: Data($0.utf8))
            }
            let refused = rows.filter { $0.reason == "route_not_allowed" }
            #expect(refused.count == rows.count && !rows.isEmpty)
            #expect(refused.count <= 20, "\(refused.count) records for one client's refusals")
            #expect(refused.map(\.requests).reduce(0, +) == 1000)
            for row in refused {
                #expect(row.decision == .blocked && row.status == 403 && row.vendor == "scale" && row.method == "GET")
                #expect(row.client?.ip == "127.0.0.1")
                // The path as received never reaches the log; the route it came nearest to does.
                #expect(
                    row.path == #"(withheld; route "POST /v1/task/*" matches the path, not the method)"#,
                    "\(row.path ?? "")"
                )
                let window = try #require(row.refusals)
                #expect(window.first <= window.last && window.last <= row.time)
            }
            let table = try await Self.airlock(["log", "show", "--dir", audit])
            #expect(table.contains("(1000 requests)"), "\(table)")
            let stats = try await Self.airlock(["log", "stats", "--json", "--dir", audit])
            let decoded = try JSONDecoder().decode(AuditStats.self, from: Data(stats.utf8))
            #expect(decoded.total.requests == 1000 && decoded.total.blocked == 1000)
            let verified = try await Self.airlock(["log", "verify", "--dir", audit])
            #expect(verified.hasPrefix("OK:"))
            let everything = try String(contentsOfFile: audit + "/audit-000001.jsonl", encoding: .utf8)
            #expect(!everything.contains("Nightingale"))
        }
    }

    /// A guard threshold the disk cannot meet (more free bytes than any disk has): `/readyz` says not ready and why,
    /// `/metrics` shows the figures, and a request is refused 503 `audit_unavailable` with nothing at the vendor.
    @Test func anAuditDiskWithoutRoomIsNotReadyAndRefusesRequests() async throws {
        try await ServedAirlock.with(
            policy: Self.policy,
            audit: "{directory: audit, min_free_bytes: 4611686018427387904}"
        ) { airlock in
            #expect(await Self.waitUntilListening(airlock))
            let admin = "http://127.0.0.1:\(airlock.adminPort)"
            let ready = try await Curl.run([admin + "/readyz"])
            let refused = try await airlock.send(#"{"project": "Nightingale"}"#)
            let metrics = try await Curl.run([admin + "/metrics"]).body
            #expect(ready.status == 503)
            #expect(ready.body.hasPrefix("not ready\nreason the audit disk has "), "\(ready.body)")
            #expect(ready.body.contains("below audit.min_free_bytes (4611686018427387904)"))
            #expect(refused.status == 503 && errorCode(refused.body) == "audit_unavailable", "\(refused.body)")
            #expect(airlock.vendor.connectionCount == 0 && airlock.vendor.plaintextBytesReceived == 0)
            #expect(metrics.contains("airlock_audit_space_ok 0"), "\(metrics)")
            let free = metrics.split(separator: "\n").first { $0.hasPrefix("airlock_audit_free_bytes ") }
            #expect(free.flatMap { Double($0.split(separator: " ")[1]) }.map { $0 > 0 } == true)
            #expect(metrics.contains("airlock_audit_directory_bytes "))
        }
    }

    /// A killed proxy leaves records after its last checkpoint. The next writer signs them as it starts: while it
    /// holds the log, `airlock log verify` sees a checkpoint covering the recovery event, the last seq recovered.
    @Test func afterACrashTheNextWriterCheckpointsTheRecoveredRecords() async throws {
        try await ServedAirlock.with(policy: Self.policy, audit: "{directory: audit}") { airlock in
            #expect(await Self.waitUntilListening(airlock))
            for index in 0..<3 {
                let sent = try await airlock.send(#"{"n": \#(index)}"#)
                #expect(sent.status == 200)
            }
            airlock.signal(SIGKILL)
            airlock.process.waitUntilExit()
            let auditURL = URL(fileURLWithPath: airlock.directory + "/audit")
            let reopened = try await AuditLog.open(AuditConfiguration(directory: auditURL))
            let verified = try await Self.airlock(["log", "verify", "--dir", auditURL.path])
            let entries = try AuditLogReader(directory: auditURL).entries()
            try await reopened.close()
            let recovery = try #require(entries.last { $0.event == .recovery })
            #expect(
                verified.contains("0 records after the last checkpoint (it covers seq 1-\(recovery.seq))"),
                "\(verified)"
            )
        }
    }
}
