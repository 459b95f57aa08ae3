import AirlockAudit
import AirlockProxy
import Foundation
import Testing

/// Every decision says why (a reason category next to its code) and which way it went (egress or an inbound
/// callback): lab requests and vendor callbacks sent with curl through a real Airlock and its real audit log, then
/// read back with the `airlock log` commands as a reviewer would.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DecisionReasonTests {
    @Test func recordsCarryTheirReasonAndDirectionAndTheCommandsShowThem() async throws {
        let harness = try await CallbackHarness(CallbackHarness.Options(auditLog: true))
        let forwarded = try await harness.post("/scale/v1/task/1", #"{"text": "about Nightingale"}"#)
        let uninspectable = try await harness.post("/scale/v1/task/2", #"{"text": "unterminated"#)
        let routeRefused = try await harness.post("/scale/v1/other", #"{"text": "x"}"#)
        let delivered = try await harness.postCallback(#"{"text": "done"}"#)
        let unauthenticated = try await harness.post(
            "/callbacks/scale",
            #"{"text": "x"}"#,
            headers: ["scale-callback-auth: wrong"],
            port: harness.callbackPort
        )
        let notJSON = try await harness.curl([
            "-H", CallbackHarness.scaleAuth, "-H", "Content-Type: text/plain", "--data-binary", "plain",
            "https://127.0.0.1:\(harness.callbackPort)/callbacks/scale",
        ])
        // Refused once its body was read (not aggregated): written by the callback service itself.
        let unparseable = try await harness.postCallback(#"{"text": "#)
        await harness.stopProxy()
        let directory = harness.auditDirectory
        let rows = try AuditLogReader(directory: URL(fileURLWithPath: directory)).decisions()
        let csv = try await RefusalFloodTests.airlock(["log", "show", "--format", "csv", "--dir", directory])
        let table = try await RefusalFloodTests.airlock(["log", "show", "--dir", directory])
        let inboundOnly = try await RefusalFloodTests.airlock([
            "log", "show", "--format", "json", "--direction", "inbound", "--since", "1h", "--dir", directory,
        ])
        let statsJSON = try await RefusalFloodTests.airlock(["log", "stats", "--json", "--dir", directory])
        let statsTable = try await RefusalFloodTests.airlock(["log", "stats", "--dir", directory])
        await harness.close()

        #expect(forwarded.status == 200 && uninspectable.status == 422 && routeRefused.status == 403)
        #expect(delivered.status == 200 && unauthenticated.status == 401 && notJSON.status == 415)
        #expect(unparseable.status == 422)
        func row(_ reason: String?, _ direction: AuditDirection) -> AuditEntry? {
            rows.first { $0.reason == reason && $0.direction == direction }
        }
        let egressForwarded = try #require(row(nil, .egress), "\(rows)")
        #expect(egressForwarded.category == .allowed && egressForwarded.decision == .forwarded)
        #expect(row("uninspectable_body", .egress)?.category == .uninspectable)
        #expect(row("route_not_allowed", .egress)?.category == .routeNotAllowed)
        #expect(row(nil, .inbound)?.category == .allowed)
        #expect(row("callback_unauthorized", .inbound)?.category == .unauthenticated)
        let uninspectableCallbacks = rows.filter { $0.reason == "uninspectable_callback" }
        #expect(uninspectableCallbacks.count == 2)
        #expect(uninspectableCallbacks.allSatisfy { $0.category == .uninspectable && $0.direction == .inbound })
        #expect(rows.count == 7 && rows.allSatisfy { $0.category != nil && $0.direction != nil })

        // The CSV: a header, then the reason and the direction of each decision.
        let lines = csv.split(separator: "\r\n").map(String.init)
        #expect(lines.first == DecisionColumns.names.joined(separator: ","))
        #expect(lines.count == 8)
        #expect(
            lines.contains {
                $0.contains(",inbound,POST,/callbacks/scale,blocked×1,unauthenticated: callback_unauthorized,")
            }
        )
        #expect(lines.contains { $0.contains(",egress,POST,/v1/task/2,blocked,uninspectable: uninspectable_body,") })
        #expect(table.contains("REASON") && table.contains("DIRECTION") && table.contains("route_not_allowed"))
        let inbound = try inboundOnly.split(separator: "\n").map {
            try JSONDecoder().decode(AuditEntry.self, from: Data($0.utf8))
        }
        #expect(inbound.count == 4 && inbound.allSatisfy { $0.direction == .inbound })
        // Callbacks are counted apart from what the lab sent.
        let stats = try JSONDecoder().decode(AuditStats.self, from: Data(statsJSON.utf8))
        #expect(stats.total.requests == 3 && stats.total.forwarded == 1 && stats.total.blocked == 2)
        #expect(stats.inbound.requests == 4 && stats.inbound.forwarded == 1 && stats.inbound.blocked == 3)
        #expect(stats.byReason["uninspectable"]?.requests == 1 && stats.byReason["route_not_allowed"]?.requests == 1)
        #expect(statsTable.contains("CALLBACKS"))
    }

    /// `--since` takes a time ago; anything else that is not a time is refused with what is accepted.
    @Test func relativeTimesAndMalformedOnes() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-times-\(UUID())")
        let log = try await AuditLog.open(AuditConfiguration(directory: scratch))
        _ = try await log.recordDecision(
            DecisionRecord(
                id: "r1",
                client: AuditClient(ip: "127.0.0.1"),
                vendor: "scale",
                method: "POST",
                path: "/v1/task/1",
                decision: .forwarded,
                policy: "p",
                requestBytes: 1,
                category: .allowed,
                direction: .egress
            ),
            forwardedBody: nil
        )
        try await log.close()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let recent = try await RefusalFloodTests.airlock(["log", "show", "--since", "10m", "--dir", scratch.path])
        #expect(recent.contains("1 decision"))
        let none = try await RefusalFloodTests.airlock(["log", "show", "--until", "10m", "--dir", scratch.path])
        #expect(none.contains("0 decisions"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeCommandTests.airlockBinary)
        process.arguments = ["log", "show", "--since", "yesterday", "--dir", scratch.path]
        let refused = try await Curl.execute(process, timeout: 60)
        #expect(refused.exitCode != 0 && refused.stderr.contains("24h"))
    }
}
