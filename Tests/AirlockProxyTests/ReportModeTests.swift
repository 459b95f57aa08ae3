import AirlockAudit
import AirlockProxy
import AirlockRedaction
import Foundation
import Testing

/// `mode: report` rules through the proxy, with real curl and a real vendor socket: the vendor receives exactly what
/// it receives with the rules removed, while the audit log and /metrics say what they matched.
@Suite(.timeLimit(.minutes(2)))
struct ReportModeTests {
    static let enforcedRules = """
        version: 1
        name: report-mode-test
        detectors:
          - email: {action: redact, domains: [lab.example.com]}
          - secret: {action: block}
        content:
          unknown: block
        terms:
          - {id: codenames, label: CODENAME, action: pseudonymize, values: ["Nightingale"]}

        """

    /// The same policy plus report-mode rules: a block rule, one that overlaps the enforced codename (a longer term
    /// with a stronger action), a pattern and a fields rule.
    static let reportRules = """
          - {id: roadmap, action: block, mode: report, values: ["Q3 launch"]}
          - {id: codename-phrase, action: redact, mode: report, values: ["Nightingale Falcon"]}
        patterns:
          - {id: run-ids, action: redact, regex: 'run-[0-9]{4}', mode: report}
        fields:
          - {path: $..budget, action: drop, mode: report}

        """

    static func policyText(report: Bool) -> String {
        report ? enforcedRules + reportRules : enforcedRules
    }

    static let keys = PseudonymKeys(secret: Array(repeating: 7, count: 32))

    static func inspector(report: Bool) throws -> PolicyInspector {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-report-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("policy.yaml").path
        try Self.policyText(report: report).write(toFile: path, atomically: true, encoding: .utf8)
        return PolicyInspector(policies: ["scale": try VendorPolicy.load(path: path, keys: Self.keys)])
    }

    /// Requests that touch every report rule in bodies, keys, the path, the query and a header.
    static let requests: [[String]] = [
        [
            "-H", "Content-Type: application/json", "-d",
            #"{"note": "the Q3 launch of Nightingale Falcon, run-1234", "budget": 12, "Q3 launch": "x", "by": "jane@lab.example.com"}"#,
            "/scale/v1/task/a",
        ],
        [
            "-H", "Content-Type: text/plain", "-d", "Nightingale Falcon ships in the Q3 launch (run-0042)",
            "/scale/v1/task/b",
        ],
        [
            "-H", "Content-Type: application/x-www-form-urlencoded", "-d", "q=Q3%20launch&n=Nightingale+Falcon",
            "/scale/v1/task/c?topic=Q3%20launch",
        ],
        [
            "-H", "User-Agent: bot (Q3 launch)", "-H", "Content-Type: application/json", "-d", "{}",
            "/scale/v1/task/Q3%20launch",
        ],
    ]

    struct Sent: Equatable {
        var method: String
        var uri: String
        var headers: [String]
        var body: [UInt8]
    }

    /// Sends every request through a proxy with the policy, returns what the vendor received and the statuses.
    static func send(
        report: Bool,
        recorder: (any EgressRecorder)? = nil
    ) async throws -> (
        sent: [Sent], statuses: [Int], metrics: String
    ) {
        var options = ProxyHarness.Options()
        options.inspector = try Self.inspector(report: report)
        options.headers = ["User-Agent"]
        if let recorder { options.recorder = recorder }
        let harness = try await ProxyHarness(options)
        var statuses: [Int] = []
        for request in Self.requests {
            var arguments = Array(request.dropLast())
            arguments.append(harness.url(request.last ?? "/"))
            statuses.append(try await harness.curl(arguments).status)
        }
        let metrics = try await Curl.run(["http://127.0.0.1:\(harness.adminPort)/metrics"]).body
        let sent = harness.vendor.requests.map { request in
            Sent(
                method: request.method,
                uri: request.uri,
                // Host names the stand-in's own port, which differs between the two runs.
                headers: request.headers.filter { $0.name.lowercased() != "host" }.map {
                    "\($0.name.lowercased()): \($0.value)"
                },
                body: request.body
            )
        }
        await harness.close()
        return (sent, statuses, metrics)
    }

    @Test func reportRulesNeverChangeTheForwardedBytes() async throws {
        let without = try await Self.send(report: false)
        let with = try await Self.send(report: true)
        #expect(without.statuses == [200, 200, 200, 200])
        // The report-mode block rule matched in every request, and blocked none.
        #expect(with.statuses == without.statuses)
        #expect(with.sent.count == without.sent.count)
        for (a, b) in zip(with.sent, without.sent) {
            #expect(a == b, "\(String(decoding: a.body, as: UTF8.self)) vs \(String(decoding: b.body, as: UTF8.self))")
        }
        // The enforced codename rule still rewrote what it would alone, inside the report rule's longer match.
        let first = String(decoding: try #require(with.sent.first).body, as: UTF8.self)
        #expect(first.contains("CODENAME_") && first.contains("Falcon") && first.contains("Q3 launch"), "\(first)")
    }

    @Test func reportFindingsAreRecordedAndCountedAsReportOnly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-report-log-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = try await AuditLog.open(AuditConfiguration(directory: directory))
        let with = try await Self.send(report: true, recorder: AuditRecorder(log: log))
        try await log.close()
        let decisions = try AuditLogReader(directory: directory).decisions()
        #expect(decisions.count == 4)
        let findings = decisions.flatMap { $0.findings ?? [] }
        let reported = findings.filter { $0.mode == "report" }
        // The longer phrase overlapping the enforced codename is not seen again: the codename left pseudonymised.
        #expect(Set(reported.map(\.id)) == ["roadmap", "run-ids", "$..budget"], "\(findings)")
        #expect(reported.contains { $0.id == "roadmap" && $0.action == "block" })
        // Enforced findings are not marked, and keep their counts.
        #expect(findings.contains { $0.id == "codenames" && $0.mode == nil })
        #expect(decisions.allSatisfy { $0.decision == .forwarded })
        // Where they matched, as it left: the key "Q3 launch" is named without the report rule's term.
        let first = try #require(decisions.first?.findings?.first { $0.id == "roadmap" })
        #expect(first.paths.contains("$.note"), "\(first.paths)")
        #expect(first.paths.contains("$['[REDACTED:ROADMAP]']"), "\(first.paths)")
        let outside = (decisions.last?.findings ?? []).filter { $0.id == "roadmap" }.flatMap(\.paths)
        #expect(Set(outside) == ["path[3]", "header:user-agent"], "\(outside)")
        // Nothing the report rules match is in a finding. (The record's path is the path as it left, as the stored
        // body is the body as it left: a report rule changes neither.)
        let encoded = String(decoding: try JSONEncoder().encode(findings), as: UTF8.self)
        #expect(!encoded.contains("Q3 launch") && !encoded.contains("Q3%20launch") && !encoded.contains("Falcon"))
        #expect(!encoded.contains("run-1234") && !encoded.contains("run-0042"))
        let lines = with.metrics.split(separator: "\n")
        #expect(
            lines.contains {
                $0.hasPrefix("airlock_findings_total{") && $0.contains(#"rule="roadmap""#)
                    && $0.contains(#"mode="report""#) && $0.contains(#"action="block""#)
            },
            "\(with.metrics)"
        )
        #expect(
            lines.contains {
                $0.hasPrefix("airlock_findings_total{") && $0.contains(#"rule="codenames""#) && !$0.contains("mode=")
            }
        )
        #expect(!with.metrics.contains("Q3 launch") && !with.metrics.contains("Falcon"))
    }
}
